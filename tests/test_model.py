import json

import pytest

from indexer.errors import ModelChecksumError, ModelError
from indexer.model import resolve_model, verify_weights


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    (folder / "mine").mkdir(parents=True)
    (folder / "mine" / "model.safetensors").write_bytes(b"not really weights")
    (folder / "models.json").write_text(json.dumps({
        "default": "mine",
        "models": {"mine": {"sha256": "0" * 64}},
    }))
    monkeypatch.setenv("PEELQA_MODELS_DIR", str(folder))
    return folder


def test_dropped_folder_resolves_and_bad_weights_are_refused(models_dir):
    spec = resolve_model("mine")
    assert spec.path == (models_dir / "mine").resolve()
    with pytest.raises(ModelChecksumError, match="refusing to use them"):
        verify_weights(spec)


def test_checksum_from_index_manifest_is_checked(models_dir):
    import hashlib

    (models_dir / "models.json").write_text(json.dumps({"models": {}}))
    spec = resolve_model("mine")
    actual = hashlib.sha256(b"not really weights").hexdigest()
    assert verify_weights(spec) == actual
    with pytest.raises(ModelChecksumError, match="index manifest"):
        verify_weights(spec, expected="f" * 64)


def test_unknown_model_and_missing_weights(models_dir, tmp_path):
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        resolve_model("nope")
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(ModelError, match="no weights"):
        resolve_model(str(tmp_path / "empty-model"))


def test_default_model_weights_match_recorded_checksum():
    spec = resolve_model(None)
    assert spec.name == "all-MiniLM-L6-v2"
    assert verify_weights(spec) == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
