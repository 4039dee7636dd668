"""The `halo-forge` command line: thin commands that parse options and call the library."""
