"""The JSON nesting check that runs before any parser reads a request body."""

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from kotacerdas.config.request_limits import nested_deeper_than

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(alphabet='[]{}"\\ab', max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.text(alphabet='[]{}"\\ab', max_size=5), children, max_size=3
        )
    ),
    max_leaves=60,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    return 0


@given(json_values, st.integers(min_value=0, max_value=8))
@example([[[["]]]]"]]]], 3)
def test_depth_check_matches_parsed_depth(value: Any, limit: int) -> None:
    body = json.dumps(value).encode()
    assert nested_deeper_than(body, limit) == (depth(value) > limit)


@given(st.binary(max_size=400), st.integers(min_value=0, max_value=20))
def test_depth_check_accepts_any_bytes(body: bytes, limit: int) -> None:
    assert nested_deeper_than(body, limit) in (True, False)
