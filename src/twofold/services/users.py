"""The user directory: one service made of the concepts in the ``user_*`` modules.

* ``user_lookup``: find users by any identifier, or whether one exists;
* ``user_create``: create users (with identities, TOTP, initial MFA status);
* ``user_update``: change and delete users;
* ``user_identities``: link and unlink external identities, bind sync relations;
* ``user_listing``: list users by filters, keywords and sort;
* ``user_custom_fields``: custom field definitions and values.

Each takes domain commands (``twofold.domain.commands``) or plain arguments, never wire models.
"""

from __future__ import annotations

from twofold.services.user_create import UserCreation
from twofold.services.user_custom_fields import UserCustomFields
from twofold.services.user_identities import UserIdentities
from twofold.services.user_listing import UserListing
from twofold.services.user_lookup import UserLookup
from twofold.services.user_support import UserView, snapshot, the_one
from twofold.services.user_update import UserUpdates

__all__ = ["UserService", "UserView", "snapshot", "the_one"]


class UserService(UserLookup, UserCreation, UserUpdates, UserIdentities, UserListing, UserCustomFields):
    """Create, find, list, update and delete users, and link their external identities."""
