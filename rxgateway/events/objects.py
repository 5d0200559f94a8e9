"""Views of the small objects nested in many payloads (GATEWAY.md §10.2, §10.7): users,
guild members, roles, emoji, presences and activities, voice states.

Each is a :class:`~rxgateway.events.view.View` over the sub-dict, built when its field
is read. Objects that are also a whole dispatch (a user is USER_UPDATE's ``d``, a voice
state is VOICE_STATE_UPDATE's) keep their fields in a ``...Fields`` mixin that the
event classes share.

Example::

    >>> m = Member({"user": {"id": "1", "username": "alice", "discriminator": "0"},
    ...             "roles": ["7"], "joined_at": None, "deaf": False, "mute": False, "flags": 0})
    >>> m.user.username, m.roles, m.nick
    ('alice', [7], None)
"""

from __future__ import annotations

from .fields import BITSET, BOOL, INT, OBJECT, SNOWFLAKE, SNOWFLAKES, STRINGS, TEXT, list_of, opt, req, view
from .view import Display, View


class UserCommon(Display):
    """Fields every user shape has: the ``id`` and the optional profile keys."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    global_name = opt(TEXT)
    #: Avatar hash.
    avatar = opt(TEXT)
    bot = opt(BOOL)
    system = opt(BOOL)
    public_flags = opt(INT)
    banner = opt(TEXT)
    accent_color = opt(INT)
    avatar_decoration_data = opt(OBJECT)
    collectibles = opt(OBJECT)
    primary_guild = opt(OBJECT)
    # Only for the bot itself (READY, USER_UPDATE).
    verified = opt(BOOL)
    email = opt(TEXT)
    flags = opt(INT)
    mfa_enabled = opt(BOOL)
    locale = opt(TEXT)
    #: The partial member of a user mentioned in a guild message.
    member = opt(view(lambda raw: Member(raw), "Member"))

    _repr_keys = "id username"

    _label_key = "username"

    def _label(self) -> str:
        return super()._label() if self._get("username") is not None else str(self._get("id"))


class UserFields(UserCommon):
    """A full user: ``username`` and ``discriminator`` are required."""

    __slots__ = ()

    username = req(TEXT)
    #: ``"0"`` for users on the new username system.
    discriminator = req(TEXT)


class User(UserFields, View):
    """A Discord user.

    Example::

        >>> User({"id": "1063970773401731072", "username": "alice", "discriminator": "0"}).id
        1063970773401731072
    """

    __slots__ = ()


class PartialUser(UserCommon, View):
    """A user of which only ``id`` is guaranteed (PRESENCE_UPDATE, §10.7).

    Example::

        >>> PartialUser({"id": "1"}).username is None
        True
    """

    __slots__ = ()

    username = opt(TEXT)
    discriminator = opt(TEXT)


class MemberCommon(Display):
    """Guild member fields shared by members and GUILD_MEMBER_UPDATE."""

    __slots__ = ()

    #: Absent inside MESSAGE_CREATE/UPDATE's ``member``.
    user = opt(view(User))
    nick = opt(TEXT)
    avatar = opt(TEXT)
    banner = opt(TEXT)
    #: Role ids.
    roles = req(SNOWFLAKES)
    joined_at = opt(TEXT)
    premium_since = opt(TEXT)
    pending = opt(BOOL)
    communication_disabled_until = opt(TEXT)
    avatar_decoration_data = opt(OBJECT)
    collectibles = opt(OBJECT)

    _repr_keys = "user nick roles"

    _label_key = "nick"

    def _label(self) -> str:
        user = self._get("user")
        return user._label() if self._get("nick") is None and isinstance(user, Display) else super()._label()


class MemberFields(MemberCommon):
    """A full guild member (§10.2)."""

    __slots__ = ()

    deaf = req(BOOL)
    mute = req(BOOL)
    flags = req(INT)
    #: Total permissions in the channel; only inside interactions.
    permissions = opt(BITSET)


class Member(MemberFields, View):
    """A guild member.

    Example::

        >>> Member({"roles": [], "deaf": False, "mute": False, "flags": 0}).user is None
        True
    """

    __slots__ = ()


class RoleColors(View):
    """A role's ``colors``: ``primary_color``, and the gradient's other two or ``None``."""

    __slots__ = ()

    primary_color = req(INT)
    secondary_color = opt(INT)
    tertiary_color = opt(INT)

    _repr_keys = "primary_color secondary_color tertiary_color"


class Role(View):
    """A guild role. The ``@everyone`` role has the guild's id.

    Example::

        >>> Role({"id": "9", "name": "@everyone", "permissions": "1071698660929"}).permissions
        1071698660929
    """

    __slots__ = ()

    id = req(SNOWFLAKE)
    name = req(TEXT)
    #: Deprecated by ``colors``.
    color = req(INT)
    colors = opt(view(RoleColors))
    hoist = req(BOOL)
    icon = opt(TEXT)
    unicode_emoji = opt(TEXT)
    position = req(INT)
    permissions = req(BITSET)
    managed = req(BOOL)
    mentionable = req(BOOL)
    tags = opt(OBJECT)
    flags = req(INT)

    _repr_keys = "id name"
    _label_key = "name"


class Emoji(View):
    """An emoji; ``id`` is ``None`` for a Unicode emoji. Reaction emoji are partial.

    Example::

        >>> Emoji({"id": None, "name": "🔥"}).name
        '🔥'
    """

    __slots__ = ()

    id = opt(SNOWFLAKE)
    name = opt(TEXT)
    roles = opt(SNOWFLAKES)
    user = opt(view(User))
    require_colons = opt(BOOL)
    managed = opt(BOOL)
    animated = opt(BOOL)
    available = opt(BOOL)

    _repr_keys = "id name"
    _label_key = "name"


class ActivityTimestamps(View):
    """An activity's ``timestamps``: unix milliseconds."""

    __slots__ = ()

    start = opt(INT)
    end = opt(INT)

    _repr_keys = "start end"


class Activity(View):
    """A presence activity (a game, a stream, a custom status).

    Example::

        >>> Activity({"name": "Rocket League", "type": 0, "created_at": 1751371200000}).name
        'Rocket League'
    """

    __slots__ = ()

    name = req(TEXT)
    #: 0 Playing, 1 Streaming, 2 Listening, 3 Watching, 4 Custom, 5 Competing.
    type = req(INT)
    #: Unix milliseconds.
    created_at = req(INT)
    url = opt(TEXT)
    timestamps = opt(view(ActivityTimestamps))
    application_id = opt(SNOWFLAKE)
    details = opt(TEXT)
    state = opt(TEXT)
    emoji = opt(view(Emoji))

    _repr_keys = "name type"
    _label_key = "name"


class ClientStatus(View):
    """Per-platform status; a platform where the user is offline is ``None``."""

    __slots__ = ()

    desktop = opt(TEXT)
    mobile = opt(TEXT)
    web = opt(TEXT)
    vr = opt(TEXT)

    _repr_keys = "desktop mobile web vr"


class PresenceFields(Display):
    """A presence (§10.7). Discord validates nothing here: read defensively."""

    __slots__ = ()

    user = req(view(PartialUser))
    #: ``idle``, ``dnd``, ``online`` or ``offline``.
    status = req(TEXT)
    activities = req(list_of(view(Activity)))
    client_status = req(view(ClientStatus))

    _repr_keys = "user status"
    _label_key = "status"


class Presence(PresenceFields, View):
    """A user's presence in a guild (absent ``guild_id`` inside GUILD_CREATE).

    Example::

        >>> Presence({"user": {"id": "1"}, "status": "idle"}).user.id
        1
    """

    __slots__ = ()

    guild_id = opt(SNOWFLAKE)


class GuildUserFields(Display):
    """A user and the guild an event about them happened in (bans, member removal)."""

    __slots__ = ()

    guild_id = req(SNOWFLAKE)
    user = req(view(User))

    _repr_keys = "guild_id user"


class VoiceStateFields(Display):
    """A voice state (§10.2)."""

    __slots__ = ()

    guild_id = opt(SNOWFLAKE)
    #: ``None`` when the user left voice.
    channel_id = opt(SNOWFLAKE)
    user_id = req(SNOWFLAKE)
    member = opt(view(Member))
    session_id = req(TEXT)
    deaf = req(BOOL)
    mute = req(BOOL)
    self_deaf = req(BOOL)
    self_mute = req(BOOL)
    self_stream = opt(BOOL)
    self_video = req(BOOL)
    suppress = req(BOOL)
    request_to_speak_timestamp = opt(TEXT)

    _repr_keys = "user_id channel_id"


class VoiceState(VoiceStateFields, View):
    """A user's voice connection state.

    Example::

        >>> VoiceState({"user_id": "1", "channel_id": None}).channel_id is None
        True
    """

    __slots__ = ()

