"""``twofold mfa``: read and set users' MFA status, and unlock or reset their factors, on a running server."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from twofold.cli.connection import ConnectionOptions, call, fail, guess_id_type, require_sdk
from twofold.cli.output import IdTypeOption, JsonOption, show, show_rows
from twofold.cli.runtime import console, print_json
from twofold.cli.user_import import RowError, _policies

app = typer.Typer(help="Read and set users' MFA status; unlock and reset their factors.", no_args_is_help=True)
FactorOption = Annotated[
    str | None,
    typer.Option("--factor", help="OTP, SMS, EMAIL or FACE (default: every factor).", case_sensitive=False),
]


@app.command("set")
def set_status(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user.")],
    factor: Annotated[
        list[str] | None,
        typer.Option(
            "--factor",
            help="FACTOR[:status:sort], repeatable, in challenge order: --factor OTP --factor SMS:0:5. "
            "Factors: OTP, SMS, EMAIL, FACE.",
        ),
    ] = None,
    totp: Annotated[
        bool | None,
        typer.Option(
            "--totp/--no-totp",
            help="The user has enrolled an authenticator app (--no-totp: the sign-in enrols one). "
            "Default: whether a TOTP secret is bound. What is challenged is decided by --factor.",
        ),
    ] = None,
    face: Annotated[
        bool | None,
        typer.Option("--face/--no-face", help="The user has enrolled face verification (default: no)."),
    ] = None,
    mfa_phone: Annotated[
        str | None, typer.Option(help="Where SMS codes go (default: the user's phone).")
    ] = None,
    mfa_phone_country_code: Annotated[str | None, typer.Option(help="Country code of --mfa-phone.")] = None,
    mfa_email: Annotated[
        str | None, typer.Option(help="Where email codes go (default: the user's email).")
    ] = None,
    version: Annotated[int | None, typer.Option(help="Only if the status is still at this version.")] = None,
    id_type: IdTypeOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Replace a user's MFA status: --factor is the policy (what a sign-in challenges); --totp/--face say
    whether the user is already enrolled.  What is not given is off / none."""
    try:
        entries = _policies(";".join(factor or []))
    except RowError as exc:
        raise fail(str(exc)) from None
    require_sdk()
    from twofold_client import ApplicationMfa, MfaTriggerData

    data = MfaTriggerData(
        mfa_token="twofold-cli",  # noqa: S106 - required by the wire format, never stored
        application_mfa=[ApplicationMfa(**_snake(e)) for e in entries],
        totp_mfa_enabled=totp,
        face_mfa_enabled=face,
        mfa_phone=mfa_phone,
        mfa_phone_country_code=mfa_phone_country_code,
        mfa_email=mfa_email,
    )
    kind = guess_id_type(user, id_type)
    new_version = call(ctx.obj, lambda c: c.set_users_mfa_status(data, user, kind, version=version))
    if as_json:
        print_json({"success": True, "version": new_version})
    else:
        console.print(f"MFA status of {user} set (version {new_version})")


def _snake(entry: dict[str, Any]) -> dict[str, Any]:
    return {"mfa_policy": entry["mfaPolicy"], "status": entry["status"], "sort": entry["sort"]}


@app.command("get")
def get_status(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user.")],
    app_id: Annotated[str | None, typer.Option("--app", help="As this application sees it.")] = None,
    id_type: IdTypeOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Show a user's MFA status (or, with --app, the trigger data for one application)."""
    kind = guess_id_type(user, id_type)
    options: ConnectionOptions = ctx.obj
    if app_id:
        status = call(options, lambda c: c.get_mfa_trigger_data(app_id, user, kind))
    else:
        status = call(options, lambda c: c.get_user_mfa_status(user, kind))
    show(status, as_json, f"MFA status of {user}")


@app.command("info")
def info(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user.")],
    id_type: IdTypeOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Which factors the user can use now (enabled and bound)."""
    kind = guess_id_type(user, id_type)
    show(call(ctx.obj, lambda c: c.get_user_mfa_info(user, kind)), as_json, f"MFA factors of {user}")


FACTORS = ("OTP", "SMS", "EMAIL", "FACE")


def _factor(factor: str | None) -> str | None:
    """The factor as the server spells it (the CLI accepts any case)."""
    if factor is None:
        return None
    if factor.upper() not in FACTORS:
        raise fail(f"unknown factor {factor!r}: expected one of {', '.join(FACTORS)}")
    return factor.upper()


@app.command("locks")
def locks(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user.")],
    id_type: IdTypeOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Failed MFA verifications and locks, per factor (a lock looks like a wrong code to the user)."""
    kind = guess_id_type(user, id_type)
    status = call(ctx.obj, lambda c: c.get_mfa_lock_status(user, kind))
    show_rows(status.factors, ("factor", "failures", "locked", "lockedUntil"), as_json, f"MFA locks of {user}")


@app.command("unlock")
def unlock(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user.")],
    factor: FactorOption = None,
    id_type: IdTypeOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Clear the failure count, and so the lock, of one factor or of all."""
    kind = guess_id_type(user, id_type)
    cleared = call(ctx.obj, lambda c: c.unlock_mfa(user, kind, _factor(factor)))
    if as_json:
        print_json({"success": True, "unlockedFactors": [str(f) for f in cleared]})
    elif cleared:
        console.print(f"unlocked {', '.join(str(f) for f in cleared)} for {user}")
    else:
        console.print(f"nothing to unlock for {user}")


@app.command("reset")
def reset(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user.")],
    factor: FactorOption = None,
    id_type: IdTypeOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Forget one factor or all, with their failure counts: resetting OTP removes the user's
    authenticator, so their next sign-in enrols a new one."""
    kind = guess_id_type(user, id_type)
    result = call(ctx.obj, lambda c: c.reset_mfa_factor(user, kind, _factor(factor)))
    if as_json:
        show(result, True)
        return
    removed = " (authenticator removed)" if result.otp_removed else ""
    console.print(f"reset {', '.join(str(f) for f in result.factors)} for {user}{removed}")
