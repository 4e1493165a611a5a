"""The one HTML sanitiser and its plain-text view."""

import re

import pytest

from portal.security.html import html_to_text, sanitize_html

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT type='text/javascript'>alert(1)</SCRIPT >",
    "<p>unclosed <script>alert(1)",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    '<p style="width: expression(alert(1))">x</p>',
    '<p style="color: expression(alert(1))">x</p>',
    '<p style="background:url(javascript:x)">x</p>',
    '<span style="background-color: url(javascript:x)">x</span>',
    '<svg onload=alert(1)><circle r="1"/></svg>',
    '<iframe src="https://evil.example/">frame text</iframe>',
    '<p onclick="alert(1)" onmouseover=alert(2)>x</p>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<form action="https://evil.example"><input name=x></form>',
    "<style>body{background:red}</style><p>x</p>",
    '<div style="position:fixed">x</div>',
]


@pytest.mark.parametrize("html", HOSTILE)
def test_hostile_markup_is_neutralised(html):
    cleaned = sanitize_html(html).lower()
    assert "<script" not in cleaned
    assert "alert(" not in cleaned
    assert "javascript:" not in cleaned
    assert "vbscript:" not in cleaned
    assert "data:" not in cleaned
    assert "expression(" not in cleaned
    assert "url(" not in cleaned
    assert not re.search(r"\son\w+\s*=", cleaned)
    for tag in ("<img", "<svg", "<iframe", "<object", "<embed", "<form", "<input",
                "<style", "<math"):
        assert tag not in cleaned


@pytest.mark.parametrize("html", HOSTILE)
def test_sanitising_is_idempotent_on_hostile_markup(html):
    once = sanitize_html(html)
    assert sanitize_html(once) == once


def test_script_and_style_text_does_not_survive_as_visible_text():
    cleaned = sanitize_html("<p>before</p><script>steal()</script><style>.x{}</style><p>after</p>")
    assert cleaned == "<p>before</p><p>after</p>"


def test_spliced_script_tags_stay_inert_text():
    # Browsers read "<scr<script>" as one odd tag, so the rest is plain text.
    cleaned = sanitize_html("<scr<script>x</script>ipt>alert(1)</script>")
    assert "<script" not in cleaned
    assert cleaned == "xipt&gt;alert(1)"


def test_iframe_content_is_dropped():
    assert sanitize_html("<iframe>inside</iframe>ok") == "ok"


def test_disallowed_tags_are_stripped_but_their_text_kept():
    assert sanitize_html("<font color=red>红色</font><center>居中</center>") == "红色居中"


def test_allowed_structure_survives():
    html = ('<h1>标题</h1><p>段落 <strong>粗</strong> <em>斜</em> <u>下划线</u></p>'
            '<ul><li>一</li></ul><ol><li>二</li></ol><blockquote>引</blockquote>'
            '<pre><code>x = 1</code></pre><hr><p>H<sub>2</sub>O x<sup>2</sup>'
            ' <s>旧</s> <del>删</del> <ins>增</ins> <mark>亮</mark></p>')
    assert sanitize_html(html) == html


def test_tables_keep_spans():
    cleaned = sanitize_html('<table><tr><td colspan="2" rowspan="3" width="9">a</td></tr></table>')
    assert cleaned == '<table><tbody><tr><td colspan="2" rowspan="3">a</td></tr></tbody></table>'


def test_links_keep_safe_protocols_and_title():
    html = ('<a href="https://iso.org" title="标准">s</a><a href="http://x.cn">h</a>'
            '<a href="mailto:qa@example.com">m</a>')
    assert sanitize_html(html) == html


def test_link_target_attribute_is_removed():
    assert sanitize_html('<a href="https://x.cn" target="_blank">x</a>') == \
        '<a href="https://x.cn">x</a>'


def test_allowed_css_is_kept_and_the_rest_dropped():
    cleaned = sanitize_html(
        '<p style="text-align: center; position: absolute; color: #c00000">x</p>'
        '<span style="font-weight: bold; background-color: rgb(255, 255, 0)">y</span>'
        '<td style="font-style: italic">z</td>')
    assert 'style="text-align: center; color: #c00000"' in cleaned
    assert 'style="font-weight: bold; background-color: rgb(255, 255, 0)"' in cleaned
    assert "position" not in cleaned


def test_style_is_not_allowed_on_other_tags():
    assert sanitize_html('<div style="color: red">x</div>') == "<div>x</div>"


def test_a_style_with_nothing_allowed_leaves_no_empty_attribute():
    assert sanitize_html('<p style="width: expression(alert(1))">x</p>') == "<p>x</p>"


def test_chinese_and_emoji_survive():
    html = "<p>文件和资料控制程序 😀👍🏽 ✅ 𠮷</p>"
    assert sanitize_html(html) == html


def test_text_that_looks_like_markup_is_escaped():
    assert sanitize_html("a < b & c > d") == "a &lt; b &amp; c &gt; d"


def test_empty_input():
    assert sanitize_html("") == ""


@pytest.mark.parametrize("html", [
    "<p>a<div>b</div>c</p>",
    "<table><tr><td>a</td></tr><p>stray</p></table>",
    "<ul><li>a<li>b</ul>",
    "<b><i>x</b></i>",
    "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
    "<a href=\"https://x.cn/?a=1&b=2\">q</a>",
])
def test_sanitising_is_idempotent_on_messy_markup(html):
    once = sanitize_html(html)
    assert sanitize_html(once) == once


def test_html_to_text_separates_blocks_and_cells():
    html = ("<h1>1 目的</h1><p>为确保  文件\n有效。<br>第二行</p>"
            "<table><tr><th>版本</th><th>日期</th></tr>"
            "<tr><td>A/0</td><td>2026-01-05</td></tr></table>"
            "<ul><li>一</li><li>二</li></ul>")
    assert html_to_text(html) == ("1 目的\n为确保 文件 有效。\n第二行\n版本\t日期\n"
                                  "A/0\t2026-01-05\n一\n二")


def test_html_to_text_unescapes_entities():
    assert html_to_text("<p>a &amp; b &lt;c&gt; &#x4E2D;&nbsp;文</p>") == "a & b <c> 中 文"


def test_html_to_text_keeps_empty_cells_in_position():
    assert html_to_text("<table><tr><td>a</td><td></td><td>c</td></tr></table>") == "a\t\tc"


def test_html_to_text_keeps_pre_lines():
    assert html_to_text("<pre>line 1\nline 2</pre>") == "line 1\nline 2"


def test_html_to_text_ignores_script_content():
    assert html_to_text("<p>x</p><script>var a;</script>") == "x"


def test_html_to_text_of_empty_input():
    assert html_to_text("") == ""
