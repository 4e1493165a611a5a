"""html5lib, as bleach uses it, with its work bounded by the size of the input.

Stock html5lib is quadratic on hostile markup in four places, each fixed here:
- every tag scans the stack of open elements, so parsing costs its depth per tag:
  nesting deeper than MAX_NESTING is refused;
- unclosed <b>, <i>… are re-opened in every later paragraph, so `<p><b><i><u>x</p>`
  repeated builds far more elements than it has tags: more than one element per
  CHARS_PER_ELEMENT characters is refused;
- each piece of text (a run between entities, stripped tags or stray `<`) is added to its
  text node with `+=`, copying the node every time: runs of text reach the parser as one;
- the tree walker searches each parent's children for the child it came back from, and
  text and elements moved out of a table search their parent's children for the table:
  positions are remembered, or searched for from the end, where they are.
"""

from __future__ import annotations

from bleach import html5lib_shim
from bleach._vendor.html5lib import treebuilders
from bleach._vendor.html5lib.constants import tableInsertModeElements, tokenTypes
from flask_babel import gettext as _

from portal.errors import ValidationFailed

# Word's deepest honest nesting (a list nine levels deep inside a table cell) is about 30.
MAX_NESTING = 100
# A start tag takes at least three characters (`<b>`); a few elements are implied (the
# tbody of `<table><td>`), so honest markup stays well above two characters per element.
CHARS_PER_ELEMENT = 2
_SPARE_ELEMENTS = 100
_TEXT = tokenTypes["Characters"]
_SPACE = tokenTypes["SpaceCharacters"]
_PARSE_ERROR = tokenTypes["ParseError"]
_EtreeBuilder = treebuilders.getTreeBuilder("etree")


def _index_from_end(parent, child) -> int:
    """Position of ``child`` among ``parent``'s children, searched from the end."""
    for index in range(len(parent) - 1, -1, -1):
        if parent[index] is child:
            return index
    raise ValueError("not a child")


class _Element(_EtreeBuilder.elementClass):
    """html5lib's etree element; a table's foster parent finds the table from the end
    (it is the parent's last child, everything moved out of it goes just before it)."""

    def insertBefore(self, node, refNode):
        self._element.insert(_index_from_end(self._element, refNode._element), node._element)
        node.parent = self

    def insertText(self, data, insertBefore=None):
        if insertBefore is None or not len(self._element):
            return super().insertText(data)
        index = _index_from_end(self._element, insertBefore._element)
        if index:
            before = self._element[index - 1]
            before.tail = (before.tail or "") + data
        else:
            self._element.text = (self._element.text or "") + data


class BoundedTreeBuilder(_EtreeBuilder):
    """html5lib's etree tree builder, refusing too deep or too many elements."""

    elementClass = _Element
    max_elements = _SPARE_ELEMENTS

    def reset(self):
        super().reset()
        self.elements = 0

    def insertElementNormal(self, token):
        self._admit()
        return super().insertElementNormal(token)

    def insertElementTable(self, token):
        if self.openElements[-1].name not in tableInsertModeElements:
            return self.insertElementNormal(token)  # counted there
        self._admit()
        return super().insertElementTable(token)

    def _admit(self) -> None:
        self.elements += 1
        if len(self.openElements) > MAX_NESTING:  # the fragment root is one of them
            raise ValidationFailed(
                _("The text is nested more than %(limit)d levels deep.", limit=MAX_NESTING),
                code="too_deeply_nested")
        if self.elements > self.max_elements:
            raise ValidationFailed(
                _("The text re-opens unclosed formatting too often; close each tag you open."),
                code="too_many_elements")


class _TextRuns:
    """The tokenizer, with each run of text tokens given to the parser as one.

    Text never changes the tokenizer's state, so reading ahead to the end of a run is
    safe; a run starts with a text (not a whitespace) token, so `<pre>` still drops its
    first newline. Parse errors are only logged; they pass straight through. Every other
    attribute is the tokenizer's own (the parser switches its state)."""

    def __init__(self, tokenizer) -> None:
        object.__setattr__(self, "_tokenizer", tokenizer)

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)

    def __setattr__(self, name, value):
        setattr(self._tokenizer, name, value)

    def __iter__(self):
        run: list[str] = []
        for token in self._tokenizer:
            kind = token["type"]
            if kind == _PARSE_ERROR:
                yield token
            elif kind in (_TEXT, _SPACE) and run and "\0" not in token["data"]:
                run.append(token["data"])
            else:
                if run:
                    yield {"type": _TEXT, "data": "".join(run)}
                    run = []
                if kind == _TEXT and "\0" not in token["data"]:
                    run.append(token["data"])  # NUL alone is dropped by the parser: keep it alone
                else:
                    yield token
        if run:
            yield {"type": _TEXT, "data": "".join(run)}


class BoundedParser(html5lib_shim.BleachHTMLParser):
    """Bleach's parser with the bounded tree builder and runs of text merged."""

    def __init__(self, **options) -> None:
        super().__init__(namespaceHTMLElements=False, tree=BoundedTreeBuilder, **options)

    def parseFragment(self, stream, *args, **kwargs):
        self.tree.max_elements = len(stream) // CHARS_PER_ELEMENT + _SPARE_ELEMENTS
        return super().parseFragment(stream, *args, **kwargs)

    def mainLoop(self):
        if not isinstance(self.tokenizer, _TextRuns):
            self.tokenizer = _TextRuns(self.tokenizer)
        return super().mainLoop()


class LinearTreeWalker(html5lib_shim.getTreeWalker("etree")):
    """html5lib's etree walker, remembering each ancestor's position instead of searching
    its parent's children for it on the way back up. A node is (element, index in parent,
    [(ancestor, its index), ...], flag)."""

    def getFirstChild(self, node):
        element, key, parents, flag = node if isinstance(node, tuple) else (node, None, [], None)
        if flag in ("text", "tail"):
            return None
        if element.text:
            return element, key, parents, "text"
        if len(element):
            parents.append((element, key))
            return element[0], 0, parents, None
        return None

    def getNextSibling(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            if len(element):
                parents.append((element, key))
                return element[0], 0, parents, None
            return None
        if element.tail and flag != "tail":
            return element, key, parents, "tail"
        if key < len(parents[-1][0]) - 1:
            return parents[-1][0][key + 1], key + 1, parents, None
        return None

    def getParentNode(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            return (element, key, parents, None) if parents else element
        parent, parent_key = parents.pop()
        return (parent, parent_key, parents, None) if parents else parent
