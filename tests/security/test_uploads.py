"""Upload checks for .docx files: size, type, structure, corruption and zip bombs."""

import io
import struct
import zipfile

import docx
import flask_babel
import pytest

from portal.security.uploads import UploadRejected, check_docx

CONTENT_TYPES = b'<?xml version="1.0"?><Types/>'


def make_docx(text="文件和资料控制程序") -> bytes:
    document = docx.Document()
    document.add_heading("QP0501", level=1)
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def rejection(data, filename="QP0501.docx", **limits) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        check_docx(data, filename, **limits)
    return caught.value


@pytest.fixture(scope="module")
def real_docx() -> bytes:
    return make_docx()


def test_a_real_docx_passes(real_docx):
    assert check_docx(real_docx, "QP0501.docx") is None


def test_a_chinese_file_name_is_fine(real_docx):
    check_docx(real_docx, "文件和资料控制程序.docx")


def test_the_extension_is_case_insensitive(real_docx):
    check_docx(real_docx, "QP0501.DOCX")


def test_an_oversized_file_is_413(real_docx):
    error = rejection(real_docx, max_bytes=1000)
    assert (error.code, error.status) == ("file_too_large", 413)
    assert error.message


@pytest.mark.parametrize("filename", ["QP0501.doc", "QP0501.pdf", "QP0501.docx.exe", "QP0501", ""])
def test_a_wrong_extension_is_415(real_docx, filename):
    error = rejection(real_docx, filename)
    assert (error.code, error.status) == ("unsupported_file_type", 415)


def test_a_text_file_renamed_docx_is_415():
    error = rejection("这不是Word文件".encode("utf-8"))
    assert (error.code, error.status) == ("not_a_docx", 415)


def test_an_empty_file_is_415():
    error = rejection(b"")
    assert (error.code, error.status) == ("not_a_docx", 415)


def test_a_zip_without_word_document_is_415():
    data = make_zip({"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": b"<x/>"})
    error = rejection(data)
    assert (error.code, error.status) == ("not_a_docx", 415)
    assert "word/document.xml" in error.message


def test_a_zip_without_content_types_is_415():
    error = rejection(make_zip({"word/document.xml": b"<w:document/>"}))
    assert (error.code, error.status) == ("not_a_docx", 415)


def test_an_empty_zip_is_415():
    error = rejection(make_zip({}))
    assert (error.code, error.status) == ("not_a_docx", 415)


def test_truncated_docx_is_422(real_docx):
    error = rejection(real_docx[: len(real_docx) // 2])
    assert (error.code, error.status) == ("corrupt_docx", 422)


def test_a_docx_with_a_bad_crc_is_422():
    data = bytearray(make_zip({"[Content_Types].xml": CONTENT_TYPES,
                               "word/document.xml": b"<w:document>" + b"x" * 500 + b"</w:document>"}))
    # Flip the stored CRC-32 of the first member in the central directory.
    central = data.find(b"PK\x01\x02")
    data[central + 16] ^= 0xFF
    error = rejection(bytes(data))
    assert (error.code, error.status) == ("corrupt_docx", 422)


def test_a_zip_bomb_is_422():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", b"<w:document/>")
        with archive.open("word/media/zeros.bin", "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(150):
                member.write(chunk)
    error = rejection(buffer.getvalue())
    assert (error.code, error.status) == ("zip_bomb", 422)


def test_a_high_compression_ratio_alone_is_a_bomb():
    members = {"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": bytes(5 * 1024 * 1024)}
    error = rejection(make_zip(members))  # 5 MB is under the size limit, but ~1000:1
    assert (error.code, error.status) == ("zip_bomb", 422)


def test_a_smaller_uncompressed_limit_applies():
    members = {"[Content_Types].xml": CONTENT_TYPES,
               "word/document.xml": b"<w:document>" + b"abc" * 100_000 + b"</w:document>"}
    error = rejection(make_zip(members), max_uncompressed=100_000)
    assert (error.code, error.status) == ("zip_bomb", 422)


def test_too_many_members_is_a_bomb():
    members = {"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": b"<w:document/>"}
    members.update({f"word/part{i}.xml": b"" for i in range(2001)})
    error = rejection(make_zip(members))
    assert (error.code, error.status) == ("zip_bomb", 422)


def test_lying_declared_sizes_are_caught_when_decompressing():
    payload = bytes(3 * 1024 * 1024)
    data = bytearray(make_zip({"[Content_Types].xml": CONTENT_TYPES,
                               "word/document.xml": payload}))
    # Declare the big member as 100 bytes in both headers so the directory looks harmless.
    local = data.find(b"PK\x03\x04", 1)
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 100)
    struct.pack_into("<I", data, central + 24, 100)
    error = rejection(bytes(data))
    assert error.status == 422
    assert error.code in ("corrupt_docx", "zip_bomb")


def test_rejection_is_an_exception_with_a_message():
    error = UploadRejected("zip_bomb", "expands too much", 422)
    assert isinstance(error, Exception)
    assert str(error) == "expands too much"


def test_upload_refusals_speak_the_readers_language(f):
    """The refusal a 文控 reads is in Chinese by default and in English on request."""
    controller = f.user("controller")
    api, doc = f.api(controller), f.document(controller)

    def refuse(language):
        # The fixture's app context outlives each request, and flask-babel caches the
        # locale there; a real server starts every request afresh.
        flask_babel.refresh()
        resp = api.post(f"/documents/{doc.id}/revisions?lang={language}",
                        data={"file": (io.BytesIO(b"not a zip at all"), "质量手册.docx"),
                              "change_summary": "首版发行"},
                        content_type="multipart/form-data")
        assert resp.status_code == 415, resp.get_json()
        return resp.get_json()["error"]

    assert refuse("zh_CN") == {"code": "not_a_docx", "message": "该文件不是 Word .docx 文档：它不是 zip 压缩包。"}
    assert refuse("en")["message"] == "The file is not a Word .docx document: it is not a zip archive."
