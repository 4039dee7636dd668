"""The MSVC verifier on a Windows build host over SSH (`msvc`), its connection (`ssh`), the
commands it runs there (`commands`), runs of the built program (`runs`), its options and the
reading of MSVC's diagnostics (`msvc_diagnostics`)."""
