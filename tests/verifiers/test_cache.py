"""The content-addressed result cache: keys, persistence, sharing between processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from halo_forge.verifiers.base import VerifyResult
from halo_forge.verifiers.cache import ResultCache, content_key, default_cache_dir

FINGERPRINT = {"verifier": "gcc", "options": {"flags": ["-Wall"]}, "compiler_version": "g++ 12"}


def test_key_changes_with_code_options_compiler_and_context() -> None:
    base = content_key(FINGERPRINT, "int main(){}\n", {"stdin": "1"})
    assert base == content_key(dict(FINGERPRINT), "int main(){}\n", {"stdin": "1"})
    assert base != content_key(FINGERPRINT, "int main(){ }\n", {"stdin": "1"})
    assert base != content_key(FINGERPRINT, "int main(){}\n", {"stdin": "2"})
    assert base != content_key(
        {**FINGERPRINT, "options": {"flags": []}}, "int main(){}\n", {"stdin": "1"}
    )
    assert base != content_key(
        {**FINGERPRINT, "compiler_version": "g++ 13"}, "int main(){}\n", {"stdin": "1"}
    )


def test_key_ignores_dict_order() -> None:
    assert content_key({"a": 1, "b": 2}, "x", {"p": 1, "q": 2}) == content_key(
        {"b": 2, "a": 1}, "x", {"q": 2, "p": 1}
    )


def test_results_survive_reopening(tmp_path: Path) -> None:
    result = VerifyResult(True, 0.3, "compiled with 1 warning(s)", None, {"warnings": 1})
    with ResultCache(tmp_path) as cache:
        cache.put_many({"k1": result})
        assert len(cache) == 1
    with ResultCache(tmp_path) as reopened:
        assert reopened.get("k1") == result
        assert reopened.get("missing") is None
        assert reopened.get_many(["k1", "missing", "k1"]) == {"k1": result}


def test_lookup_of_many_keys_spans_query_chunks(tmp_path: Path) -> None:
    with ResultCache(tmp_path) as cache:
        cache.put_many({f"key{i}": VerifyResult(i % 2 == 0, i / 2000) for i in range(1200)})
        found = cache.get_many(f"key{i}" for i in range(0, 1300, 7))
    assert len(found) == len(range(0, 1200, 7))
    assert found["key14"].reward == pytest.approx(14 / 2000)


def test_clear_forgets_everything(tmp_path: Path) -> None:
    with ResultCache(tmp_path) as cache:
        cache.put_many({"a": VerifyResult(True, 1.0)})
        cache.clear()
        assert len(cache) == 0


def test_default_dir_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HALO_FORGE_CACHE_DIR", str(tmp_path / "hf"))
    assert default_cache_dir() == tmp_path / "hf" / "verify"
    monkeypatch.delenv("HALO_FORGE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "halo-forge" / "verify"


def test_another_process_sees_stored_results(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from halo_forge.verifiers.cache import ResultCache\n"
        "from halo_forge.verifiers.base import VerifyResult\n"
        "with ResultCache(sys.argv[1]) as cache:\n"
        "    cache.put_many({'shared': VerifyResult(True, 0.5, 'compiled')})\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60)
    with ResultCache(tmp_path) as cache:
        assert cache.get("shared") == VerifyResult(True, 0.5, "compiled")
