"""Domains nobody may send from through Patchbay: free-mail providers (the sender must own the
domain's DNS) and common disposable-address services. Compared lower-cased."""

from __future__ import annotations

FREE_MAIL_DOMAINS = frozenset(
    {
        "aol.com", "gmail.com", "googlemail.com", "gmx.com", "gmx.de", "gmx.net", "hey.com",
        "hotmail.co.uk", "hotmail.com", "hotmail.de", "hotmail.fr", "icloud.com", "live.com",
        "mac.com", "mail.com", "mail.ru", "me.com", "msn.com", "outlook.com", "pm.me",
        "proton.me", "protonmail.com", "qq.com", "tutanota.com", "web.de", "yahoo.co.uk",
        "yahoo.com", "yahoo.de", "yahoo.fr", "yandex.com", "yandex.ru", "ymail.com", "zoho.com",
        "163.com", "126.com", "fastmail.com", "live.co.uk", "rocketmail.com", "inbox.com",
    }
)  # fmt: skip

DISPOSABLE_DOMAINS = frozenset(
    {
        "10minutemail.com", "discard.email", "dispostable.com", "emailondeck.com", "fakeinbox.com",
        "getnada.com", "guerrillamail.com", "guerrillamail.net", "mailcatch.com", "maildrop.cc",
        "mailinator.com", "mailnesia.com", "mintemail.com", "mohmal.com", "mytemp.email",
        "sharklasers.com", "spamgourmet.com", "temp-mail.org", "tempail.com", "tempmail.com",
        "tempmailo.com", "throwawaymail.com", "trashmail.com", "yopmail.com", "yopmail.net",
        "burnermail.io", "moakt.com", "tempr.email", "emailfake.com", "33mail.com",
    }
)  # fmt: skip


def is_blocked(domain: str) -> bool:
    domain = domain.lower()
    return domain in FREE_MAIL_DOMAINS or domain in DISPOSABLE_DOMAINS
