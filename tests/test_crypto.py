"""Secrets at rest: ciphertext in the database, key rotation step by step, loud failures."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection

from enhancer.crypto import DecryptionError
from enhancer.models import ShareLink, Team
from tests.factories import make_job

pytestmark = pytest.mark.django_db

KEY = "tk_live_plaintext_key_5678"
SECRET = "0f" * 32
OLD, NEW, WRONG = (Fernet.generate_key().decode() for _ in range(3))


def raw(column: str, team: Team) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM enhancer_team WHERE id = %s", [team.pk])
        return cursor.fetchone()[0]


def reload(team: Team) -> Team:
    return Team.objects.get(pk=team.pk)


@pytest.fixture
def stored(team, settings) -> Team:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    team.set_api_key(KEY)
    team.webhook_secret = SECRET
    team.save()
    return team


def test_the_key_column_never_holds_the_plaintext(stored):
    column = raw("api_key", stored)
    assert KEY not in column
    assert SECRET not in raw("webhook_secret", stored)
    assert Fernet(OLD.encode()).decrypt(column.encode()).decode() == KEY
    assert reload(stored).api_key == KEY
    assert reload(stored).api_key_hint == "5678"


def test_each_save_encrypts_afresh(stored):
    # Fernet tokens carry a random IV: equal keys do not show as equal ciphertexts.
    other = Team.objects.create(name="Other")
    other.set_api_key(KEY)
    other.save()
    assert raw("api_key", other) != raw("api_key", stored)


def test_empty_stays_empty(team):
    assert raw("api_key", team) == ""
    assert reload(team).api_key == ""


def test_rotation_step_by_step(stored, settings):
    old_ciphertext = raw("api_key", stored)

    # 1. A new key first, the old one after it: everything still reads.
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    assert reload(stored).api_key == KEY

    # 2. Rotate: the column is re-encrypted under the new key.
    call_command("rotate_secrets", stdout=io.StringIO())
    new_ciphertext = raw("api_key", stored)
    assert new_ciphertext != old_ciphertext
    assert Fernet(NEW.encode()).decrypt(new_ciphertext.encode()).decode() == KEY
    with pytest.raises(InvalidToken):
        Fernet(OLD.encode()).decrypt(new_ciphertext.encode())
    assert KEY not in new_ciphertext

    # 3. The old key can go: the new one alone reads every secret.
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    team = reload(stored)
    assert (team.api_key, team.webhook_secret) == (KEY, SECRET)


def test_rotation_covers_every_encrypted_column(stored, settings, admin_user_):
    link = ShareLink.create(created_by=admin_user_, job=make_job(stored, admin_user_))
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("rotate_secrets", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert ShareLink.objects.get(pk=link.pk).token == link.token
    assert reload(stored).webhook_secret == SECRET


def test_a_wrong_key_fails_loudly_never_as_an_empty_key(stored, settings):
    settings.FIELD_ENCRYPTION_KEYS = [WRONG]
    with pytest.raises(DecryptionError):
        reload(stored)


def test_rotation_with_a_wrong_key_fails_and_changes_nothing(stored, settings):
    # A second team whose key was encrypted with a key that is no longer configured.
    settings.FIELD_ENCRYPTION_KEYS = [WRONG]
    lost = Team(name="Zeta")  # sorts after "Studio Alice", so that one is rotated first
    lost.set_api_key("another-key-0000")
    lost.save()
    before = raw("api_key", stored)

    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    with pytest.raises(CommandError, match=rf"Team #{lost.pk}: its api_key cannot be decrypted"):
        call_command("rotate_secrets", stdout=io.StringIO())
    assert raw("api_key", stored) == before  # rolled back, not half rotated
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    assert reload(stored).api_key == KEY
