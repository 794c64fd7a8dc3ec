"""What an uploaded file really is, from its bytes (the client's word is never taken), and
whether an attachment field accepts it."""
from __future__ import annotations

import zipfile
from typing import BinaryIO

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# Office Open XML files are zip archives told apart by their main part.
OOXML_PARTS = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}
# Legacy Office files are OLE2 compound files told apart by a stream name (UTF-16 in the directory).
OLE2_STREAMS = {"WordDocument".encode("utf-16-le"): "application/msword",
                "Workbook".encode("utf-16-le"): "application/vnd.ms-excel",
                "PowerPoint Document".encode("utf-16-le"): "application/vnd.ms-powerpoint"}
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"}
TYPE_LABELS = {
    "image/jpeg": "JPEG 图片", "image/png": "PNG 图片", "image/gif": "GIF 图片", "image/webp": "WebP 图片",
    "image/heic": "HEIC 图片", "video/mp4": "MP4 视频", "video/quicktime": "MOV 视频", "video/webm": "WebM 视频",
    "video/3gpp": "3GP 视频", "application/pdf": "PDF 文件", "application/msword": "Word 文档", DOCX: "Word 文档",
    "application/vnd.ms-excel": "Excel 表格", XLSX: "Excel 表格", "application/vnd.ms-powerpoint": "PowerPoint 演示文稿",
    PPTX: "PowerPoint 演示文稿", "application/zip": "zip 压缩包",
}
CHUNK = 1 << 20


def sniff(stream: BinaryIO) -> str | None:
    """The MIME type of a seekable binary stream from its content, or None if unrecognised."""
    stream.seek(0)
    head = stream.read(16)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return _iso_media(head[8:12])
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return _ooxml(stream)
    if head.startswith(OLE2):
        return _ole2(stream)
    return None


def accepts(accept: tuple[str, ...], content_type: str) -> bool:
    """Whether a field's x-accept list (exact types or "image/*") admits `content_type`."""
    major = content_type.split("/")[0]
    return any(allowed in (content_type, f"{major}/*") for allowed in accept)


def label(content_type: str) -> str:
    return TYPE_LABELS.get(content_type, content_type)


def _iso_media(brand: bytes) -> str:
    if brand in HEIF_BRANDS:
        return "image/heic"
    if brand == b"qt  ":
        return "video/quicktime"
    if brand.startswith(b"3g"):
        return "video/3gpp"
    return "video/mp4"


def _ooxml(stream: BinaryIO) -> str:
    stream.seek(0)
    try:
        names = set(zipfile.ZipFile(stream).namelist())
    except zipfile.BadZipFile:
        return "application/zip"
    return next((kind for part, kind in OOXML_PARTS.items() if part in names), "application/zip")


def _ole2(stream: BinaryIO) -> str | None:
    # The directory may sit anywhere in the file: scan it in chunks that overlap by a name's length.
    stream.seek(0)
    overlap = max(map(len, OLE2_STREAMS))
    tail = b""
    while chunk := stream.read(CHUNK):
        window = tail + chunk
        for name, kind in OLE2_STREAMS.items():
            if name in window:
                return kind
        tail = window[-overlap:]
    return None
