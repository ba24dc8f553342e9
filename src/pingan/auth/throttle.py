"""The login throttle (登录限速): slow the attacker, not the owner.

Every attempt is a ``login_attempt`` row: the normalised username (lower case, cut to the
column, so that long or case-varied names count against the same account), the client address
(:func:`client_ip`), success or not, and the known-device cookie it presented, if any. Before a
password is checked, :func:`check` applies, in this order:

1. **A known device** (一台登录过的设备). A successful login sets a signed cookie
   (``pingan_device``: a random device id and the username, signed with the secret key) on that
   browser. An attempt that presents a valid one for the same username is exempt from the limits
   below — the per-address limit and the account lock are aimed at strangers, and an owner at a
   desk behind the command centre's NAT must still get in while someone else on that NAT guesses.
   The exemption has its own limit: after ``login_max_failures`` failures with one device within
   the window, that device is treated as unknown (a stolen or shared browser gains ``login_max_failures``
   guesses, no more). The cookie proves only that this browser logged in as this user before; it is
   no credential: the password is still checked. One cookie per browser: the last user who logged
   in on it.
2. **Account lock** (last resort, 账号锁定): ``login_account_lock_failures`` failures for one username
   from at least ``login_account_lock_ips`` addresses within the window lock it for
   ``login_account_lock_minutes`` for every attempt without a known device. Written as a
   ``login_lock`` row (audited), listed on the admin's user pages, liftable by the admin (page,
   API, CLI). Locks are kept for unknown usernames too, so a lock tells nothing about whether
   the account exists.
3. **Per (username, address) back-off**: after ``FREE_FAILURES`` failures since the last success
   from that address, each further attempt waits 2, 4, 8 … seconds (at most the window) after the
   last failure; a 429 says how long (Retry-After).
4. **Per address**: ``4 × login_max_failures`` failures from one address within the window, over
   any usernames, refuse further attempts from it (without a known device) until they age out.

An unknown username costs the same argon2 verification as a known one (``auth.security``), and
gets the same message as a wrong password.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import math
import secrets
from datetime import datetime, timedelta

from fastapi import Request, Response
from sqlalchemy.orm import Session

from pingan.auth import system
from pingan.auth.models import LoginAttempt, LoginLock
from pingan.config import get_settings
from pingan.db.types import utcnow
from pingan.errors import TooManyRequests

DEVICE_COOKIE = "pingan_device"
DEVICE_DAYS = 180
FREE_FAILURES = 3
now = utcnow  # replaced in tests


# --- the client's address ------------------------------------------------------------------


@functools.cache
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)
    except ValueError as exc:
        raise ValueError(f"PINGAN_TRUSTED_PROXIES: {exc}") from None


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(addr, networks) -> bool:
    return addr is not None and any(addr in net for net in networks if addr.version == net.version)


def client_ip(request: Request) -> str:
    """The client's address: the socket peer, unless the peer is a configured trusted proxy
    (``PINGAN_TRUSTED_PROXIES``); then the nearest address in ``X-Forwarded-For`` that is not
    itself a trusted proxy (read from the right: the left part is whatever the client wrote)."""
    peer = request.client.host if request.client else "unknown"
    networks = _networks(get_settings().trusted_proxies)
    if not networks or not _trusted(_address(peer), networks):
        return peer[:45]
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        addr = _address(hop)
        if addr is None:
            break  # not an address: nothing to its left can be believed
        if not _trusted(addr, networks):
            return str(addr)
    return peer[:45]


# --- the known-device cookie -----------------------------------------------------------------


def _signature(device: str, username: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"device:{device}:{username}".encode(), hashlib.sha256).hexdigest()[:32]


def device_of(request: Request, username: str) -> str | None:
    """The device id of a valid known-device cookie for this (normalised) username, else None."""
    raw = request.cookies.get(DEVICE_COOKIE, "")
    device, _, rest = raw.partition(".")
    name, _, sig = rest.rpartition(".")
    if not device or len(device) > 32 or name != username or not sig:
        return None
    return device if hmac.compare_digest(sig, _signature(device, username)) else None


def set_device_cookie(response: Response, request: Request, username: str) -> None:
    """After a successful login: (re)issue the browser's known-device cookie for this user."""
    device = device_of(request, username) or secrets.token_hex(12)
    response.set_cookie(DEVICE_COOKIE, f"{device}.{username}.{_signature(device, username)}", httponly=True,
                        samesite="strict", secure=get_settings().cookie_secure, max_age=DEVICE_DAYS * 86400,
                        path="/")


# --- the limits --------------------------------------------------------------------------------


def _window_start(at: datetime) -> datetime:
    return at - timedelta(minutes=get_settings().login_window_minutes)


def active_lock(*, db: Session, username: str, at: datetime | None = None) -> LoginLock | None:
    return system.active_lock(db=db, username=username, at=at or now())


def _too_many(seconds: float) -> TooManyRequests:
    wait = max(1, math.ceil(seconds))
    error = TooManyRequests(f"登录失败次数过多，请 {wait} 秒后再试", f"Too many failed logins; try again in {wait} s")
    error.retry_after = wait
    return error


def backoff_seconds(failures: int) -> float:
    """The wait after ``failures`` failures in a row for one username from one address."""
    if failures < FREE_FAILURES:
        return 0.0
    return float(min(2 ** (failures - FREE_FAILURES + 1), get_settings().login_window_minutes * 60))


def check(*, db: Session, username: str, ip: str, device: str | None) -> str | None:
    """Raise TooManyRequests when this attempt must wait; return the device id honoured (or None)."""
    settings = get_settings()
    at = now()
    since = _window_start(at)
    if device is not None:
        if system.device_failures(db=db, device=device, since=since) < settings.login_max_failures:
            return device
        device = None
    lock = active_lock(db=db, username=username, at=at)
    if lock is not None:
        error = TooManyRequests(
            "该账号登录失败次数过多，已被临时锁定；请在常用设备上登录或联系管理员解锁",
            "This account is locked after many failed logins; log in from a device you used before, "
            "or ask an administrator to unlock it")
        error.retry_after = max(1, math.ceil((lock.expires_at - at).total_seconds()))
        raise error
    recent = system.recent_attempts(db=db, username=username, ip=ip, since=since)
    streak = 0
    for row in recent:
        if row.success:
            break
        streak += 1
    wait = backoff_seconds(streak)
    if wait and (remaining := (recent[0].at + timedelta(seconds=wait) - at).total_seconds()) > 0:
        raise _too_many(remaining)
    if system.address_failures(db=db, ip=ip, since=since) >= settings.login_max_failures * 4:
        oldest = system.oldest_address_failure(db=db, ip=ip, since=since)
        raise _too_many((oldest + timedelta(minutes=settings.login_window_minutes) - at).total_seconds())
    return None


def record(*, db: Session, username: str, ip: str, device: str | None, success: bool) -> LoginLock | None:
    """Count this attempt; after a failure, lock the account when the failures for it have come
    from many addresses (returns the new lock)."""
    at = now()
    db.add(LoginAttempt(username=username, ip=ip[:45], device=device, success=success, at=at))
    db.flush()
    if success:
        return None
    settings = get_settings()
    failures, addresses = system.account_failures(db=db, username=username, since=_window_start(at))
    if failures < settings.login_account_lock_failures or addresses < settings.login_account_lock_ips:
        return None
    if active_lock(db=db, username=username, at=at) is not None:
        return None
    lock = LoginLock(username=username, created_at=at, failures=failures, addresses=addresses,
                     expires_at=at + timedelta(minutes=settings.login_account_lock_minutes))
    db.add(lock)
    db.flush()
    return lock
