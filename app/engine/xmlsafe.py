"""Safe XML parsing for uploaded and bundled diagrams: no DOCTYPE, no entities, no network."""

from __future__ import annotations

import re

from lxml import etree

MAX_XML_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 200

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class UnsafeXml(Exception):
    """XML refused before any parser resolved anything in it."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def _depth(element: etree._Element) -> int:
    deepest, stack = 0, [(element, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in node)
    return deepest


def parse_xml(content: bytes | str) -> etree._ElementTree:
    """Parse and return the tree, or raise UnsafeXml with a Chinese message."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if len(raw) > MAX_XML_BYTES:
        raise UnsafeXml(f"文件过大（{len(raw)} 字节），上限 {MAX_XML_BYTES} 字节")
    if _DOCTYPE.search(raw):
        raise UnsafeXml("不允许 DOCTYPE 或实体（ENTITY）声明：可能是 XXE 或“十亿笑声”攻击")
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        if "Excessive depth" in str(exc.msg):  # libxml2 stops at 256 levels without huge_tree
            raise UnsafeXml(f"XML 嵌套层级超过 {MAX_DEPTH}") from exc
        raise UnsafeXml(f"XML 格式错误：{exc.msg}（第 {exc.lineno} 行）") from exc
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise UnsafeXml("不允许 DOCTYPE 声明")
    if _depth(root) > MAX_DEPTH:
        raise UnsafeXml(f"XML 嵌套层级超过 {MAX_DEPTH}")
    return tree
