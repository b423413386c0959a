"""Credentials: the one method configured (token, AK/SK, IAM password), secrets
from values or files, each checked for shape before anything is sent."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from pathlib import Path

from gate.errors import UsageError
from gate.secret import Secret
from gate.settings.files import read_text_nowait
from gate.settings.network import iam_endpoint_of
from gate.settings.raw import RawOptions
from gate.structs import field, record

_PROJECT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@record
class TokenCredentials:
    """An IAM token sent as ``X-Auth-Token``."""

    token: Secret

    def secrets(self) -> tuple[str, ...]:
        """The values to keep out of every output."""
        return (self.token.reveal(),)


@record
class AkSkCredentials:
    """An access key pair: every request is signed with SDK-HMAC-SHA256."""

    ak: str = field(repr=False)  # masked like the SK: it names the account
    sk: Secret
    project_id: str | None = None

    def secrets(self) -> tuple[str, ...]:
        """The values to keep out of every output (the AK too: it names the account)."""
        return (self.ak, self.sk.reveal())


@record
class IamPasswordCredentials:
    """An IAM user's password, exchanged for a token by one login per run."""

    user: str
    password: Secret
    domain: str
    endpoint: str
    project: str

    def secrets(self) -> tuple[str, ...]:
        """The values to keep out of every output."""
        return (self.password.reveal(),)


Credentials = TokenCredentials | AkSkCredentials | IamPasswordCredentials


def raw_secrets(raw: RawOptions) -> tuple[str, ...]:
    """Every non-empty secret as given, before validation: masked before anything prints.

    The values of the ``*_FILE`` options count too: a secret pasted where its path was
    expected must not be printed either (paths shorter than ``MIN_SECRET`` excepted: masking
    them would garble every message, and no valid secret is that short)."""
    values = [raw.token, raw.ak, raw.sk, raw.iam_password]
    paths = [p for p in (raw.token_file, raw.sk_file, raw.iam_password_file) if p]
    values += [p for p in paths if len(p) >= MIN_SECRET]
    for path in paths:
        with contextlib.suppress(OSError, UnicodeDecodeError, ValueError):
            if Path(path).is_file():  # a pipe (``<(pass show sk)``) can be read only once
                values.append(_strip_newline(read_text_nowait(path)))
    return tuple(value for value in values if value)


# Each method and the options that configure it (names only: never values).
METHOD_OPTIONS = {
    "token": ("token", "token_file"),
    "AK/SK": ("ak", "sk", "sk_file"),
    "IAM password": ("iam_user", "iam_password", "iam_password_file", "iam_domain"),
}


OPTION_NAMES = {
    "token": "--token/CODEARTS_TOKEN",
    "token_file": "--token-file/CODEARTS_TOKEN_FILE",
    "ak": "--ak/CODEARTS_AK/HUAWEI_CLOUD_ACCESS_KEY_ID",
    "sk": "--sk/CODEARTS_SK/HUAWEI_CLOUD_SECRET_ACCESS_KEY",
    "sk_file": "--sk-file/CODEARTS_SK_FILE",
    "iam_user": "--iam-user/CODEARTS_IAM_USER",
    "iam_password": "--iam-password/CODEARTS_IAM_PASSWORD",
    "iam_password_file": "--iam-password-file/CODEARTS_IAM_PASSWORD_FILE",
    "iam_domain": "--iam-domain/CODEARTS_IAM_DOMAIN",
}


def credentials_of(raw: RawOptions, region: str) -> Credentials:
    """The one credential method configured; none or several is a usage error."""
    found = {m: [o for o in opts if getattr(raw, o)] for m, opts in METHOD_OPTIONS.items()}
    found = {method: options for method, options in found.items() if options}
    strongest = {m: max(raw.rank(o) for o in opts) for m, opts in found.items()}
    # a flag beats a variable, a variable the file: methods set only by weaker sources step aside
    found = {m: opts for m, opts in found.items() if strongest[m] == max(strongest.values())}
    if not found:
        raise UsageError(
            "no credentials: set CODEARTS_TOKEN, or CODEARTS_AK and CODEARTS_SK, or "
            "CODEARTS_IAM_USER, CODEARTS_IAM_PASSWORD and CODEARTS_IAM_DOMAIN"
        )
    if len(found) > 1:
        listed = "; ".join(
            f"{m}: {', '.join(OPTION_NAMES[o] for o in opts)}" for m, opts in found.items()
        )
        raise UsageError(f"more than one credential method is configured ({listed}): keep one")
    builders = {"token": _token, "AK/SK": _aksk, "IAM password": _iam}
    [method] = found
    return builders[method](raw, region)


def _token(raw: RawOptions, _region: str) -> Credentials:
    token, source = secret_of(raw, "token", "token_file")
    check_format(token, source, TOKEN_FORMAT)
    return TokenCredentials(Secret(token))


def _aksk(raw: RawOptions, _region: str) -> Credentials:
    sk, sk_source = secret_of(raw, "sk", "sk_file")
    if not raw.ak:
        raise UsageError(f"AK/SK needs the access key id too: set {OPTION_NAMES['ak']}")
    check_format(raw.ak, OPTION_NAMES["ak"], AK_FORMAT)
    check_format(sk, sk_source, SK_FORMAT)
    if raw.project_id and not _PROJECT_ID.fullmatch(raw.project_id):
        raise UsageError("--project-id must be 1 to 64 of A-Z a-z 0-9 _ -")
    return AkSkCredentials(raw.ak, Secret(sk), raw.project_id or None)


def _iam(raw: RawOptions, region: str) -> Credentials:
    password, source = secret_of(raw, "iam_password", "iam_password_file")
    missing = [OPTION_NAMES[o] for o in ("iam_user", "iam_domain") if not getattr(raw, o)]
    if missing:
        raise UsageError(f"IAM password login needs {' and '.join(missing)}")
    assert raw.iam_user and raw.iam_domain
    check_format(password, source, PASSWORD_FORMAT)
    for option in ("iam_user", "iam_domain"):
        check_format(getattr(raw, option), OPTION_NAMES[option], NAME_FORMAT)
    endpoint = iam_endpoint_of(raw.iam_endpoint, region)
    return IamPasswordCredentials(raw.iam_user, Secret(password), raw.iam_domain, endpoint, region)


@record
class SecretFormat:
    """What a credential may look like: checked before anything is sent."""

    what: str
    shortest: int
    longest: int
    ascii_only: bool = True  # printable ASCII without spaces (it travels in a header)
    alphanumeric: bool = False


MIN_SECRET = 6
"""No secret is shorter (a placeholder such as ``x`` would otherwise garble every message
once redacted)."""


TOKEN_FORMAT = SecretFormat("an IAM token", 10, 100_000)


AK_FORMAT = SecretFormat("an access key id (AK)", 16, 64, alphanumeric=True)


SK_FORMAT = SecretFormat("a secret access key (SK)", 20, 128)


PASSWORD_FORMAT = SecretFormat("an IAM password", MIN_SECRET, 128, ascii_only=False)


NAME_FORMAT = SecretFormat("an IAM user or account name", 1, 128, ascii_only=False)


def check_format(value: str, option: str, rule: SecretFormat) -> None:
    """``UsageError`` naming ``option`` (never the value) when ``value`` cannot be ``rule``."""
    problem = format_problem(value, rule)
    if problem:
        raise UsageError(f"{option} is not {rule.what}: {problem} (the value is not shown)")


def format_problem(value: str, rule: SecretFormat) -> str | None:
    """Why ``value`` cannot be a credential of ``rule``'s kind, in words without the value."""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        return "it holds a control character (a line break, a tab, an escape?)"
    if rule.ascii_only and any(c.isspace() for c in value):
        return "it holds whitespace (copied with a space or a line break?)"
    if rule.ascii_only and not value.isascii():
        return "it holds a non-ASCII character (a typographic quote or dash?)"
    if rule.alphanumeric and not value.isalnum():
        return "it holds characters other than letters and digits"
    if not rule.shortest <= len(value) <= rule.longest:
        return f"it is {len(value)} characters long, not {rule.shortest} to {rule.longest}"
    return None


def secret_of(raw: RawOptions, value_name: str, file_name: str) -> tuple[str, str]:
    """A secret given directly or in a file (Docker and Jenkins secrets are files), and
    the name of where it came from. A flag beats a variable; two flags are an error."""
    value, path = getattr(raw, value_name), getattr(raw, file_name)
    if value and path:
        value_rank, path_rank = raw.rank(value_name), raw.rank(file_name)
        if value_rank == path_rank:
            raise UsageError(
                f"set {OPTION_NAMES[value_name]} or {OPTION_NAMES[file_name]}, not both"
            )
        value, path = (None, path) if value_rank < path_rank else (value, None)
    if not path:
        if not value:
            raise UsageError(f"{OPTION_NAMES[value_name]} is missing")
        return str(value), OPTION_NAMES[value_name]
    option = OPTION_NAMES[file_name]
    return read_secret_file(path, option), f"the content of {option}"


def read_secret_file(path: str, option: str) -> str:
    """A secret file's content without its trailing newline. The path is not echoed in
    errors: a secret pasted where the path belongs would be printed."""
    try:
        value = _strip_newline(read_text_nowait(path))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        reason = getattr(err, "strerror", None) or "not UTF-8 text"
        raise UsageError(
            f"cannot read the file {option} names: {reason} (the path is not shown, in "
            "case it is a secret given by mistake)"
        ) from None
    if not value:
        raise UsageError(f"the file {option} names is empty")
    return value


def _strip_newline(text: str) -> str:
    return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
