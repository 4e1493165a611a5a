"""Word-level revision diffs."""


from portal.documents.diff import diff_html, tokenize


def test_tokens_split_cjk_characters_and_keep_latin_words():
    assert tokenize("ISO9001质量 管理, v2.0") == [
        "ISO9001", "质", "量", " ", "管", "理", ",", " ", "v2", ".", "0"]


def test_identical_texts_have_no_marks():
    text = "文件和资料控制程序\n\n1 目的\nKeep documents under control."
    html = diff_html(text, text)
    assert "<ins>" not in html and "<del>" not in html
    assert html == ('<div class="diff"><p>文件和资料控制程序</p>\n<p></p>\n<p>1 目的</p>\n'
                    "<p>Keep documents under control.</p></div>")


def test_chinese_insertion_is_character_level():
    html = diff_html("本程序适用于公司所有文件。", "本程序适用于本公司所有受控文件。")
    assert html == '<div class="diff"><p>本程序适用于<ins>本</ins>公司所有<ins>受控</ins>文件。</p></div>'


def test_chinese_deletion_is_character_level():
    html = diff_html("文件应经审核和批准后发布。", "文件应经批准后发布。")
    assert html == '<div class="diff"><p>文件应经<del>审核和</del>批准后发布。</p></div>'


def test_english_replacement_is_word_level():
    html = diff_html("The manager approves the change.", "The director approves the change.")
    assert html == ('<div class="diff"><p>The <del>manager</del><ins>director</ins>'
                    " approves the change.</p></div>")


def test_added_and_removed_lines():
    html = diff_html("a\nb\nc", "a\nc\nd")
    assert html == ('<div class="diff"><p>a</p>\n<p><del>b</del></p>\n<p>c</p>\n'
                    "<p><ins>d</ins></p></div>")


def test_input_text_is_escaped():
    html = diff_html("safe", "safe <script>alert('x')</script> & more")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in html


def test_marks_never_cross_lines():
    html = diff_html("一\n二", "一 甲\n乙\n二")
    for paragraph in html.removeprefix('<div class="diff">').removesuffix("</div>").split("\n"):
        assert paragraph.startswith("<p>") and paragraph.endswith("</p>")
        assert paragraph.count("<ins>") == paragraph.count("</ins>")


def test_empty_texts():
    assert diff_html("", "") == '<div class="diff"></div>'
    assert diff_html("", "新") == '<div class="diff"><p><ins>新</ins></p></div>'


def test_an_unrelated_rewrite_of_a_line_is_shown_as_whole_lines():
    html = diff_html("文件由文控统一发放。", "设备每月保养一次")
    assert html == ('<div class="diff"><p><del>文件由文控统一发放。</del></p>\n'
                    "<p><ins>设备每月保养一次</ins></p></div>")
