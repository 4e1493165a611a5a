"""Checks an uploaded .docx before anything parses it: size, type, structure, zip bombs."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
import zlib

from flask_babel import gettext as _

DOCX_REQUIRED_MEMBERS = ("[Content_Types].xml", "word/document.xml")
MAX_MEMBERS = 2000
# Parts smaller than this cannot amplify into anything harmful, and small repetitive XML
# parts (empty table rows, list definitions) legitimately compress very well.
RATIO_EXEMPT_BYTES = 1024 * 1024
# Deflate squeezes at most about 1030:1, and only runs of a single byte get there: that is
# what a classic bomb is. Honest XML that repeats itself (identical paragraphs, empty table
# rows) reaches 250-700:1, so a lower limit refuses honest documents. What bounds the
# work is the uncompressed size, counted while decompressing (max_uncompressed) and, for
# the XML python-docx parses into memory whole, per part (MAX_XML_PART_BYTES).
MAX_RATIO = 1000
MAX_XML_PART_BYTES = 32 * 1024 * 1024
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_CHUNK = 64 * 1024
# Errors zipfile/zlib raise for damaged, truncated, encrypted or exotic archives.
_CORRUPTION_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                      RuntimeError, NotImplementedError)


# What a file name shown to people must not carry: controls (C0, DEL, C1), line and
# paragraph separators, byte-order and non-characters, surrogates, and the bidirectional
# marks, embeddings, overrides and isolates that make "gpj.exe" display as "exe.jpg".
_UNSAFE_NAME_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e"
                                "\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]")
MAX_FILENAME = 200
_MAX_EXTENSION = 16


def clean_filename(name: str | None) -> str:
    """The name an upload is shown and offered under: its last path component (after any
    `/` or `\\`), without the characters above, without leading or trailing dots and
    spaces, at most MAX_FILENAME characters with the extension kept. The file itself is
    stored by SHA-256, so the name never reaches the file system."""
    name = _UNSAFE_NAME_CHARS.sub("", unicodedata.normalize("NFC", name or ""))
    name = re.split(r"[/\\]", name)[-1]
    stem, dot, ext = name.rpartition(".")
    if not dot or not 0 < len(ext.strip()) <= _MAX_EXTENSION:
        stem, ext = name, ""
    stem, ext = stem.strip(" ."), ext.strip()
    stem = stem[:MAX_FILENAME - len(ext) - 1].rstrip(" .") or "file"
    return f"{stem}.{ext}" if ext else stem


class UploadRejected(Exception):
    """An upload the portal refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def too_large(limit: int) -> UploadRejected:
    return UploadRejected("file_too_large", _("The file is larger than %(limit)d bytes.", limit=limit), 413)


def _not_a_docx(detail: str) -> UploadRejected:
    return UploadRejected("not_a_docx", _("The file is not a Word .docx document: %(detail)s.",
                                          detail=detail), 415)


def _corrupt(detail: str) -> UploadRejected:
    return UploadRejected("corrupt_docx", _("The .docx file is damaged: %(detail)s.", detail=detail), 422)


def _zip_bomb(detail: str) -> UploadRejected:
    return UploadRejected("zip_bomb", _("The .docx file expands too much: %(detail)s.", detail=detail), 422)


def unpacks_too_large(limit: int) -> str:
    return _("more than %(limit)d bytes uncompressed", limit=limit)


def compressed_too_much(name: str, ratio: int) -> str:
    return _("%(name)s is compressed more than %(ratio)d:1", name=name, ratio=ratio)


def check_docx(data: bytes, filename: str, max_bytes: int = 10 * 1024 * 1024,
               max_uncompressed: int = 100 * 1024 * 1024, max_ratio: int = MAX_RATIO) -> None:
    """Raise :class:`UploadRejected` unless ``data`` is a plausible, safe .docx file.

    Declared sizes in the zip directory are checked first without extracting; every
    member is then stream-decompressed under a hard cap, because declared sizes can lie.
    """
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    if not (filename or "").strip().lower().endswith(".docx"):
        raise UploadRejected("unsupported_file_type", _("Only .docx files are accepted."), 415)
    if not data.startswith(_ZIP_MAGIC):
        raise _not_a_docx(_("it is not a zip archive"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_declared(members, max_uncompressed, max_ratio)
            _check_docx_parts(members)
            _check_by_decompressing(archive, members, max_uncompressed, max_ratio)
    except _CORRUPTION_ERRORS as exc:
        raise _corrupt(str(exc) or type(exc).__name__) from exc


def _check_docx_parts(members: list[zipfile.ZipInfo]) -> None:
    names = {info.filename for info in members}
    missing = [name for name in DOCX_REQUIRED_MEMBERS if name not in names]
    if missing:
        raise _not_a_docx(_("%(parts)s missing", parts=", ".join(missing)))
    # zipfile never yields more than a member's declared size, so this bound holds.
    for info in members:
        if info.filename.lower().endswith((".xml", ".rels")) and info.file_size > MAX_XML_PART_BYTES:
            raise _zip_bomb(_("%(name)s is larger than %(limit)d bytes uncompressed",
                             name=info.filename, limit=MAX_XML_PART_BYTES))


def _check_declared(members: list[zipfile.ZipInfo], max_uncompressed: int,
                    max_ratio: int) -> None:
    if len(members) > MAX_MEMBERS:
        raise _zip_bomb(_("more than %(limit)d parts", limit=MAX_MEMBERS))
    if sum(info.file_size for info in members) > max_uncompressed:
        raise _zip_bomb(unpacks_too_large(max_uncompressed))
    for info in members:
        if _ratio(info.file_size, info.compress_size) > max_ratio:
            raise _zip_bomb(compressed_too_much(info.filename, max_ratio))


def _check_by_decompressing(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo],
                            max_uncompressed: int, max_ratio: int) -> None:
    total = 0
    for info in members:
        produced = 0
        # Reading to the end also makes zipfile verify each member's CRC.
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                produced += len(chunk)
                total += len(chunk)
                if total > max_uncompressed:
                    raise _zip_bomb(unpacks_too_large(max_uncompressed))
                if _ratio(produced, info.compress_size) > max_ratio:
                    raise _zip_bomb(compressed_too_much(info.filename, max_ratio))


def _ratio(uncompressed: int, compressed: int) -> float:
    if uncompressed <= RATIO_EXEMPT_BYTES:
        return 0.0
    return uncompressed / max(compressed, 1)
