"""The Token value and token answer processing (RFC 6749 §5.1, §6; DESIGN §7)."""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest

import oauth2_core as oc

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 1, 1, tzinfo=UTC)


def _response(body: dict[str, object], status: int = 200) -> oc.HttpResponse:
    return oc.HttpResponse(
        status, {"content-type": "application/json"}, json.dumps(body).encode(), T0
    )


def test_token_defaults() -> None:
    token = oc.Token("at")
    assert (token.token_type, token.expires_at, token.refresh_token, token.scope) == (
        "Bearer",
        None,
        None,
        None,
    )
    assert token.id_token is None and dict(token.extra) == {}
    assert token.issued_token_type is None


def test_token_scope_converter_and_extra_is_read_only() -> None:
    token = oc.Token("at", scope="a  b", extra={"k": 1})
    assert token.scope == ("a", "b")
    assert oc.Token("at", scope=["x"]).scope == ("x",)
    with pytest.raises(TypeError):
        token.extra["k"] = 2  # type: ignore[index]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        token.access_token = "x"  # type: ignore[misc]


def test_token_expires_at_must_be_aware() -> None:
    with pytest.raises(oc.UsageError):
        oc.Token("at", expires_at=dt.datetime(2030, 1, 1))


def test_is_expired_with_leeway() -> None:
    token = oc.Token("at", expires_at=T0)
    assert token.is_expired(T0 - dt.timedelta(seconds=31), leeway=30) is False
    assert token.is_expired(T0 - dt.timedelta(seconds=30), leeway=30) is True
    assert token.is_expired(T0 - dt.timedelta(seconds=1)) is False
    assert token.is_expired(T0) is True
    # Any aware datetime works, not only UTC.
    paris = dt.timezone(dt.timedelta(hours=1))
    assert token.is_expired(dt.datetime(2030, 1, 1, 0, 59, tzinfo=paris)) is False
    assert token.is_expired(dt.datetime(2030, 1, 1, 1, 0, tzinfo=paris)) is True
    with pytest.raises(oc.UsageError):
        token.is_expired(dt.datetime(2030, 1, 1))


def test_issued_token_type_from_extra() -> None:
    # RFC 8693 §2.2.1
    token = oc.process_token_response(
        _response(
            {
                "access_token": "at",
                "token_type": "N_A",
                "issued_token_type": "urn:ietf:params:oauth:token-type:jwt",
            }
        )
    )
    assert token.token_type == "N_A"
    assert token.issued_token_type == "urn:ietf:params:oauth:token-type:jwt"


@pytest.mark.parametrize(
    ("sent", "kept"), [("dpop", "DPoP"), ("DPOP", "DPoP"), ("n_a", "N_A"), ("MAC", "MAC")]
)
def test_token_type_canonical_case(sent: str, kept: str) -> None:
    token = oc.process_token_response(_response({"access_token": "a", "token_type": sent}))
    assert token.token_type == kept


def test_to_dict_is_json_safe_and_from_dict_accepts_posix_seconds() -> None:
    token = oc.Token("at", expires_at=T0, refresh_token="rt", scope=("a",), extra={"x": [1]})
    saved = token.to_dict()
    assert json.loads(json.dumps(saved)) == saved
    assert saved["expires_at"] == "2030-01-01T00:00:00+00:00"
    assert oc.Token.from_dict({**saved, "expires_at": T0.timestamp()}) == token
    assert oc.Token.from_dict({"access_token": "at", "scope": "a b"}).scope == ("a", "b")


@pytest.mark.parametrize(
    "saved",
    [
        "at",
        {},
        {"access_token": 5},
        {"access_token": "a", "expires_at": "tomorrow"},
        {"access_token": "a", "expires_at": "2030-01-01T00:00:00"},  # no offset
        {"access_token": "a", "expires_at": 1e20},
        {"access_token": "a", "expires_at": True},
        {"access_token": "a", "expires_at": [1]},
        {"access_token": "a", "scope": [1]},
        {"access_token": "a", "scope": 5},
        {"access_token": "a", "extra": [1]},
        {"access_token": "a", "refresh_token": 5},
        {"access_token": "a", "id_token": {}},
        {"access_token": "a", "token_type": None},
    ],
)
def test_from_dict_rejects_what_to_dict_never_writes(saved: object) -> None:
    with pytest.raises(oc.UsageError):
        oc.Token.from_dict(saved)  # type: ignore[arg-type]


def test_only_2xx_yields_a_token() -> None:
    # DESIGN §7: a token-shaped body at 4xx/3xx is still an error.
    for status in (301, 400, 401, 500):
        with pytest.raises(oc.EndpointError) as info:
            oc.process_token_response(_response({"access_token": "a"}, status=status))
        assert info.value.status == status
        assert info.value.error is None
    assert oc.process_token_response(_response({"access_token": "a"}, status=201)).access_token


@pytest.mark.parametrize(
    ("members", "field"),
    [
        ({}, "access_token"),
        ({"access_token": None}, "access_token"),
        ({"access_token": ""}, "access_token"),
        ({"access_token": 5}, "access_token"),
        ({"access_token": "a", "token_type": 5}, "token_type"),
        ({"access_token": "a", "refresh_token": ["r"]}, "refresh_token"),
        ({"access_token": "a", "id_token": 1}, "id_token"),
        ({"access_token": "a", "scope": [1, 2]}, "scope"),
        ({"access_token": "a", "scope": {"a": 1}}, "scope"),
    ],
)
def test_bad_member_names_the_field(members: dict[str, object], field: str) -> None:
    with pytest.raises(oc.MalformedResponseError) as info:
        oc.process_token_response(_response(members))
    assert info.value.field == field
    assert field in str(info.value)


def test_empty_optional_strings_count_as_absent() -> None:
    token = oc.process_token_response(
        _response({"access_token": "a", "refresh_token": "", "id_token": "", "token_type": ""})
    )
    assert token.refresh_token is None and token.id_token is None
    assert token.token_type == "Bearer"


def test_unknown_members_go_to_extra() -> None:
    token = oc.process_token_response(
        _response({"access_token": "a", "ok": True, "team": {"id": "T1"}, "expires": None})
    )
    assert dict(token.extra) == {"ok": True, "team": {"id": "T1"}, "expires": None}


def test_expires_at_is_utc_even_for_other_offsets() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    received = dt.datetime(2030, 1, 1, 9, tzinfo=tokyo)
    response = oc.HttpResponse(
        200, {"content-type": "application/json"}, b'{"access_token":"a","expires_in":60}', received
    )
    token = oc.process_token_response(response)
    assert token.expires_at == T0 + dt.timedelta(seconds=60)
    assert token.expires_at is not None and token.expires_at.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("received", "expires_in", "edge"),
    [
        (dt.datetime.max.replace(tzinfo=UTC), 3600, dt.datetime.max),
        (dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5))), 1, dt.datetime.max),
        (dt.datetime.min.replace(tzinfo=UTC), -3600, dt.datetime.min),
        (dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=5))), -1, dt.datetime.min),
    ],
)
def test_expires_at_saturates_at_the_calendar_edges(
    received: dt.datetime, expires_in: int, edge: dt.datetime
) -> None:
    response = oc.HttpResponse(
        200,
        {"content-type": "application/json"},
        json.dumps({"access_token": "a", "expires_in": expires_in}).encode(),
        received,
    )
    assert oc.process_token_response(response).expires_at == edge.replace(tzinfo=UTC)


def test_refresh_keeps_nothing_when_previous_had_nothing() -> None:
    token = oc.process_refresh_response(_response({"access_token": "n"}), previous=oc.Token("o"))
    assert token.refresh_token is None and token.scope is None


def test_refresh_errors_propagate() -> None:
    with pytest.raises(oc.EndpointError) as info:
        oc.process_refresh_response(
            _response({"error": "invalid_grant"}, status=400), previous=oc.Token("o")
        )
    assert info.value.reauthorize is True


@pytest.mark.parametrize(
    "members",
    [
        {"access_token": "a"},
        {"access_token": "a", "token_type": "bearer", "expires_in": 60, "scope": "x y"},
        {"access_token": "a", "refresh_token": "r", "id_token": "i", "custom": [1]},
        {"access_token": "a", "refresh_token": "", "expires_in": "3600", "scope": ["x"]},
    ],
)
def test_processed_token_equals_the_constructed_one(members: dict[str, object]) -> None:
    """process_token_response builds every Token through its constructor: the
    result equals a token built by hand from the same members."""
    at = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    token = oc.process_token_response(
        oc.HttpResponse(200, {"content-type": "application/json"}, json.dumps(members), at)
    )
    for field in attrs.fields(oc.Token):
        getattr(token, field.name)  # AttributeError if the fast path missed a field
    rebuilt = oc.Token(
        access_token=token.access_token,
        token_type=token.token_type,
        expires_at=token.expires_at,
        refresh_token=token.refresh_token,
        scope=token.scope,
        id_token=token.id_token,
        extra=token.extra,
    )
    assert token == rebuilt
    assert hash(token) == hash(rebuilt)
    assert type(token.extra) is type(rebuilt.extra)
    assert token.extra == {k: v for k, v in members.items() if k == "custom"}
    assert oc.Token.from_dict(token.to_dict()) == token
    with pytest.raises(TypeError):
        token.extra["new"] = 1  # type: ignore[index]


def test_the_constructor_sets_every_field_and_only_those() -> None:
    """Token's hand-written __init__ fills every attrs field, so no token is ever
    half-built; adding a field without filling it fails here."""
    names = {field.name for field in attrs.fields(oc.Token)}
    for token in (
        oc.Token("a"),
        oc.Token("a", "dpop", T0, "r", "x y", "i", {"k": 1}, id_token_claims={"sub": "s"}),
        attrs.evolve(oc.Token("a"), scope=["z"]),
    ):
        assert set(vars(token)) == names
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        oc.Token("a").access_token = "b"  # type: ignore[misc]


def test_the_constructor_normalises_what_it_is_given() -> None:
    """The fast checks pass canonical values through and convert the rest."""
    given = {"k": [1]}
    token = oc.Token("a", "BEARER", T0, scope=["x", "y"], extra=given)
    given["k2"] = 2  # the caller's dict changing later does not change the token
    assert (token.token_type, token.scope, dict(token.extra)) == ("Bearer", ("x", "y"), {"k": [1]})
    other_zone = dt.datetime(2030, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert oc.Token("a", expires_at=other_zone).expires_at == T0
    with pytest.raises(oc.UsageError):
        oc.Token("a", expires_at=dt.datetime(2030, 1, 1))  # naive: the point
    with pytest.raises(oc.UsageError):
        oc.Token("a", 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("members", "extra"),
    [
        ({"access_token": "a", "refresh_token": None, "scope": None}, {}),
        ({"access_token": "a", "token_type": "", "x": 1}, {"x": 1}),
        ({"access_token": "a", "expires_in": None, "expires": 5, "id_token": None}, {"expires": 5}),
        ({"access_token": "a", "token_type": "Bearer", "expires_in": 1, "y": None}, {"y": None}),
    ],
)
def test_extra_holds_exactly_the_non_standard_members(
    members: dict[str, object], extra: dict[str, object]
) -> None:
    """Members sent as null or empty count as present for the extra check, never as extra."""
    assert dict(oc.process_token_response(_response(members)).extra) == extra
