"""Checks for record attachments, and the mapping of upload refusals to domain errors."""
import io
import zipfile

from flask_babel import gettext as _

from portal.errors import DomainError, TooLarge, UnsupportedType, ValidationFailed
from portal.security.uploads import (_CORRUPTION_ERRORS, _ZIP_MAGIC, MAX_RATIO, UploadRejected,
                                     _check_by_decompressing, _check_declared, too_large)

# Evidence people attach to records: scans, photos, office files, PDFs, plain text.
ALLOWED = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
           ".png": "image/png", ".gif": "image/gif", ".txt": "text/plain", ".csv": "text/csv",
           ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MAGIC = {".pdf": (b"%PDF",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",),
         ".png": (b"\x89PNG\r\n\x1a\n",), ".gif": (b"GIF87a", b"GIF89a"),
         ".docx": _ZIP_MAGIC, ".xlsx": _ZIP_MAGIC}
# Executables and scripts, whatever their name claims.
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")


def check_attachment(data: bytes, filename: str, max_bytes: int) -> str:
    """Raise a domain error unless the file is an allowed, well-formed type; return its MIME type."""
    try:
        return _check(data, filename, max_bytes)
    except UploadRejected as exc:
        raise domain_error(exc) from exc


def _check(data: bytes, filename: str, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in ALLOWED or data.startswith(EXECUTABLE_MAGIC):
        raise UploadRejected("unsupported_file_type",
                             _("Allowed: %(types)s; never executables.", types=", ".join(sorted(ALLOWED))), 415)
    if ext in MAGIC and not data.startswith(MAGIC[ext]):
        raise UploadRejected("unsupported_file_type", _("The content is not a %(ext)s file.", ext=ext), 415)
    if ext in (".txt", ".csv") and b"\x00" in data[:8192]:
        raise UploadRejected("unsupported_file_type", _("A text file must not contain binary data."), 415)
    if ext in (".docx", ".xlsx"):
        _check_zip(data)
    return ALLOWED[ext]


def _check_zip(data: bytes, max_uncompressed: int = 100 * 1024 * 1024,
               max_ratio: int = MAX_RATIO) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_declared(members, max_uncompressed, max_ratio)
            _check_by_decompressing(archive, members, max_uncompressed, max_ratio)
    except _CORRUPTION_ERRORS as exc:
        raise UploadRejected("corrupt_file", _("The file is damaged: %(detail)s", detail=exc), 422) from exc


def domain_error(exc: UploadRejected) -> DomainError:
    """An upload refusal as the domain error views translate (413, 415 or 422)."""
    kind = {413: TooLarge, 415: UnsupportedType}.get(exc.status, ValidationFailed)
    return kind(exc.message, code=exc.code)
