"""Creating a user from the console: the user directory's create, as the session's key.

Registered before ``users``, so ``/users/new`` is this form and not a user whose id is "new"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.console.web import (
    PREFIX,
    caller_of,
    checked_form,
    current_session,
    lang_of,
    redirect,
    render,
    services_of,
)
from twofold.domain.commands import CreateUserInput, UserFieldsInput
from twofold.errors import InvalidParameter, TwofoldError, UserAlreadyExists
from twofold.services.console_sessions import ConsoleSession

router = APIRouter()
Session = Annotated[ConsoleSession, Depends(current_session)]
FIELDS = (  # (input and field name, label, input type, wire name)
    ("email", "Email", "email", "email"),
    ("phone", "Phone", "tel", "phone"),
    ("username", "Username", "text", "username"),
    ("nickname", "Nickname", "text", "nickname"),
)
MAX_LENGTH = 200  # the management API's limit of these fields (schemas/common.py ShortText)


def _page(
    request: Request,
    session: ConsoleSession,
    values: dict[str, str],
    errors: dict[str, str],
    general: str | None = None,
) -> Response:
    context = {"fields": FIELDS, "values": values, "errors": errors, "general_error": general}
    return render(request, "user_new.html", context, session=session)


@router.get("/users/new")
async def new_user_form(request: Request, session: Session) -> Response:
    return _page(request, session, {}, {})


@router.post("/users/new")
async def create_user(request: Request, session: Session) -> Response:
    form = await checked_form(request, session)
    values = {name: form.get(name, "").strip() for name, *_ in FIELDS}
    lang = "zh-CN" if lang_of(request) == "zh" else "en-US"
    given = {name: value for name, value in values.items() if value}
    try:
        for name, value in given.items():
            if len(value) > MAX_LENGTH:
                raise InvalidParameter(name, f"at most {MAX_LENGTH} characters")
        fields = UserFieldsInput(
            given=frozenset(given),
            email=given.get("email"),
            phone=given.get("phone"),
            username=given.get("username"),
            nickname=given.get("nickname"),
        )
        views = await services_of(request).users.create_users(
            caller_of(request, session), [CreateUserInput(fields)]
        )
    except (InvalidParameter, UserAlreadyExists) as exc:
        target = exc.field if exc.field in values else None
        if target is None:
            return _page(request, session, values, {}, exc.message(lang))
        return _page(request, session, values, {target: exc.message(lang)})
    except TwofoldError as exc:  # MissingUserIdentifier among them: no field to point at
        return _page(request, session, values, {}, exc.message(lang))
    return redirect(f"{PREFIX}/users/{views[0].user.id}")
