"""A batch body's items keep their texts exactly as sent (what intake stores verbatim), and
anything JSON would refuse is refused."""
import json

import pytest

from lowcode import json_batch


def test_each_item_of_a_batch_keeps_its_own_text_as_sent():
    text = ' { "sender" : "甲", "items" : [ {"b": 1.50, "a": "\\u7ad9"} ,{"x":[1, 2]}\n,\t"z"] , "n": null } '
    document, items, texts = json_batch.split(text)
    assert document == json.loads(text) and items == json.loads(text)["items"]
    assert texts == ['{"b": 1.50, "a": "\\u7ad9"}', '{"x":[1, 2]}', '"z"']
    assert [json.loads(t) for t in texts] == items


@pytest.mark.parametrize("text", ['{"type": "X", "payload": {}}', "[1, 2]", '"one"', "{}", '{"items": 5}',
                                  '{"items": [1], "items": 2}'])
def test_a_document_that_is_no_batch_is_given_whole(text):
    document, items, texts = json_batch.split(text)
    assert document == json.loads(text) and items is None and texts is None


def test_an_empty_batch_has_no_items():
    assert json_batch.split('{"items": []}') == ({"items": []}, [], [])


@pytest.mark.parametrize("text", ['{"items": [1,]}', '{"items": [1] ', '{"items": [1]} x', '{"items" [1]}',
                                  "{'items': [1]}", '{"a": 1,}', '{"items": [1] "b": 2}', ""])
def test_malformed_json_is_refused_as_json_refuses_it(text):
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        json_batch.split(text)
