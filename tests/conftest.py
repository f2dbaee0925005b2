import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Keep uploaded files of one test out of every other test's way."""
    settings.MEDIA_ROOT = tmp_path / "media"
