"""Setup failures of the remote MSVC verifier raise VerifierError naming the fix; samples never do.

Each failure is produced for real against the test sshd: a closed port, a key the server does
not know, a host key missing from known_hosts, a PATH without `cl`, and a full file system (a
64 KiB tmpfs mounted as remote_dir and filled up, so writes fail with ENOSPC).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from verifiers.ssh_server import BuildHost, free_port, make_key

from halo_forge.errors import VerifierError
from halo_forge.verifiers.base import RewardLevel
from halo_forge.verifiers.remote.msvc import RemoteMSVCVerifier

HELLO = '#include <cstdio>\nint main() { std::printf("hello\\n"); return 0; }\n'


def test_unreachable_host_names_host_and_port(build_host: BuildHost, tmp_path: Path) -> None:
    port = free_port()
    with pytest.raises(VerifierError, match=rf"cannot reach the build host .*:{port}.*port"):
        RemoteMSVCVerifier(**build_host.options(tmp_path, port=port))


def test_wrong_key_is_refused_with_the_fix(build_host: BuildHost, tmp_path: Path) -> None:
    stranger = make_key(tmp_path / "stranger_ed25519")
    with pytest.raises(VerifierError, match=r"refused authentication.*authorized_keys"):
        RemoteMSVCVerifier(**build_host.options(tmp_path / "builds", ssh_key=stranger))


def test_unknown_host_key_is_refused_by_default(build_host: BuildHost, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(VerifierError, match=r"host key .* unknown.*ssh-keyscan"):
        RemoteMSVCVerifier(**build_host.options(tmp_path / "builds", known_hosts_file=empty))


def test_host_key_check_can_be_turned_off_with_a_warning(
    build_host: BuildHost, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    options = build_host.options(
        tmp_path / "builds", known_hosts_file=empty, strict_host_key_checking=False
    )
    with caplog.at_level(logging.WARNING), RemoteMSVCVerifier(**options) as verifier:
        result = verifier.verify(HELLO)
    assert result.reward == RewardLevel.COMPILE_CLEAN
    assert "strict_host_key_checking=false" in caplog.text
    assert empty.read_text() == ""  # the unchecked key was not remembered


def test_missing_cl_points_at_env_setup(build_host: BuildHost, tmp_path: Path) -> None:
    with pytest.raises(VerifierError, match=r"'cl' not found.*set env_setup.*vcvars64.bat"):
        RemoteMSVCVerifier(**build_host.options(tmp_path, env_setup=None))
    with pytest.raises(VerifierError, match=r"env_setup .* did not put it on PATH"):
        RemoteMSVCVerifier(**build_host.options(tmp_path, env_setup="export PATH=/nowhere"))


def test_failing_env_setup_stops_before_any_sample(build_host: BuildHost, tmp_path: Path) -> None:
    with pytest.raises(
        VerifierError, match=r"env_setup or 'cl' failed .*exit status 3.*fix env_setup"
    ):
        RemoteMSVCVerifier(**build_host.options(tmp_path, env_setup="echo broken >&2; exit 3"))


def test_program_exit_status_255_is_a_sample_verdict_not_a_connection_error(
    build_host: BuildHost, tmp_path: Path
) -> None:
    # It even prints what ssh prints when it fails: the program's output cannot stop a batch.
    impostor = (
        "#include <cstdio>\n"
        'int main() { std::fprintf(stderr, "ssh: connect to host x port 22: Connection refused\\n"); '
        "return 255; }\n"
    )
    with RemoteMSVCVerifier(**build_host.options(tmp_path, run_after_compile=True)) as verifier:
        result = verifier.verify(impostor)
    assert result.reward == RewardLevel.RUNTIME_FAILURE
    assert "exit status 255" in (result.error or "")


@contextlib.contextmanager
def full_tmpfs(mount_point: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs at `mount_point` filled until writes fail with ENOSPC."""
    mount_point.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)], check=True
    )
    try:
        descriptor = os.open(mount_point / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            with pytest.raises(OSError) as full:
                while True:
                    os.write(descriptor, b"\0" * 4096)
            assert full.value.errno == errno.ENOSPC
        finally:
            os.close(descriptor)
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_full_remote_disk_stops_the_batch_with_the_fix(
    build_host: BuildHost, tmp_path: Path
) -> None:
    with full_tmpfs(tmp_path / "small") as remote_dir:
        with (
            RemoteMSVCVerifier(**build_host.options(remote_dir)) as verifier,
            pytest.raises(VerifierError, match=r"disk of the build host .* is full"),
        ):
            verifier.verify_batch([HELLO, HELLO.replace("hello", "other")])
        assert sorted(path.name for path in remote_dir.iterdir()) == ["filler"]


def test_options_that_could_inject_ssh_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(VerifierError, match="'host'"):
        RemoteMSVCVerifier(host="-oProxyCommand=touch /tmp/owned")
    with pytest.raises(VerifierError, match=r"remote_dir .*cannot quote"):
        RemoteMSVCVerifier(host="build-host", shell="cmd", remote_dir="C:\\%TEMP%\\builds")
    with pytest.raises(VerifierError, match="unknown option 'hots'"):
        RemoteMSVCVerifier(host="build-host", hots="typo")
