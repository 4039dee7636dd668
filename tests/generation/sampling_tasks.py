"""The task texts every sampler backend's tests sample from, so backends are compared on one set."""

SAMPLING_TASKS = [
    "Write a C function that returns the sum of the digits of n.",
    "Reverse a string.",
    "Write a Python function `def is_even(n: int) -> bool` that returns True if n is even.",
    "Count the elements of an array greater than K and print the count.",
    "Return the n-th Fibonacci number modulo 1000.",
]
