"""Attachment files: checked on the way in, kept under instance/, served only to viewers."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.domain.text import N_
from tracker.extensions import db
from tracker.services.errors import InvalidInput

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS_PER_UPLOAD = 5
# Extension -> the content type we store and serve it as (never the browser's claim).
ALLOWED_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "txt": "text/plain",
    "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_MAGIC = {
    "pdf": (b"%PDF",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
}


@dataclass(frozen=True)
class Upload:
    """A file as the web or API layer received it."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    content_type: str
    data: bytes
    sha256: str


def safe_filename(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .")
    return base[:200] or "attachment"


def check_uploads(uploads: list[Upload]) -> list[CheckedUpload]:
    """Refuse the whole batch if any file is too large, of a type we do not keep, or disguised."""
    uploads = [u for u in uploads if u.filename]
    if len(uploads) > MAX_ATTACHMENTS_PER_UPLOAD:
        raise InvalidInput(
            f"At most {MAX_ATTACHMENTS_PER_UPLOAD} attachments at a time.",
            field_errors={"attachments": f"At most {MAX_ATTACHMENTS_PER_UPLOAD} files."},
        )
    checked = []
    for upload in uploads:
        name = safe_filename(upload.filename)
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in ALLOWED_TYPES:
            allowed = ", ".join(sorted(ALLOWED_TYPES))
            raise InvalidInput(
                f"{name}: this type of file is not accepted.",
                field_errors={"attachments": f"{name}: accepted types are {allowed}."},
            )
        if len(upload.data) > MAX_ATTACHMENT_BYTES:
            raise InvalidInput(
                f"{name} is larger than 5 MB.",
                field_errors={"attachments": f"{name} is larger than 5 MB."},
            )
        if not upload.data:
            raise InvalidInput(
                f"{name} is empty.", field_errors={"attachments": f"{name} is empty."}
            )
        magic = _MAGIC.get(extension)
        if magic and not upload.data.startswith(magic):
            raise InvalidInput(
                f"{name} does not look like a .{extension} file.",
                field_errors={"attachments": f"{name} does not look like a .{extension} file."},
            )
        checked.append(
            CheckedUpload(
                filename=name,
                content_type=ALLOWED_TYPES[extension],
                data=upload.data,
                sha256=hashlib.sha256(upload.data).hexdigest(),
            )
        )
    return checked


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(upload: CheckedUpload) -> str:
    """Write the bytes under a random key; the user's filename never becomes a path.

    The file is written before the row commits; should the transaction roll back instead,
    the file is removed again (see the session hooks below), so no orphan stays behind.
    """
    key = secrets.token_hex(16)
    path = upload_dir() / key
    path.write_bytes(upload.data)
    db.session.info.setdefault(_PENDING_FILES, []).append(path)
    return key


_PENDING_FILES = "tracker.pending_attachment_files"


@event.listens_for(Session, "after_commit")
def _files_are_kept(session: Session) -> None:
    session.info.pop(_PENDING_FILES, None)


@event.listens_for(Session, "after_rollback")
def _files_are_removed(session: Session) -> None:
    for path in session.info.pop(_PENDING_FILES, []):
        path.unlink(missing_ok=True)


def path_for(storage_key: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", storage_key):
        raise InvalidInput(N_("Bad attachment key."))
    return upload_dir() / storage_key
