"""The peers benchmark's counting (benchmarks/peers/harness.py): what it calls lost, doubled and
out of order, and how it reads a reply's kind, on known sequences; so the benchmark can fail."""

from __future__ import annotations

from benchmarks.peers.harness import Tally, kind_of, matches, tally

FLOW = ["menu", "ask", "status:WAC2212345678", "status:EAC2190012345", "menu"]


def test_the_expected_replies_in_order_are_all_right() -> None:
    assert tally(FLOW, FLOW) == Tally(0, 0, 0)


def test_a_reply_that_never_came_is_lost() -> None:
    assert tally(FLOW, ["menu", "ask", "status:WAC2212345678", "menu"]) == Tally(lost=1)
    assert tally(FLOW, []) == Tally(lost=len(FLOW))


def test_an_update_answered_twice_is_doubled_wherever_the_second_answer_falls() -> None:
    assert tally(FLOW, ["menu", "menu", *FLOW[1:]]) == Tally(doubled=1)
    # the redelivered /start answered after the conversation moved on: doubled, not reordered
    assert tally(FLOW[:3], ["menu", "ask", "menu", "status:WAC2212345678"]) == Tally(doubled=1)


def test_a_reply_of_a_kind_never_expected_counts_as_doubled() -> None:
    assert tally(["menu"], ["menu", "status:LIN2390001234"]) == Tally(doubled=1)


def test_two_statuses_swapped_are_out_of_order() -> None:
    swapped = ["menu", "ask", "status:EAC2190012345", "status:WAC2212345678", "menu"]
    assert tally(FLOW, swapped) == Tally(reordered=1)


def test_lost_doubled_and_reordered_add_up_over_chats() -> None:
    one = tally(FLOW, ["ask", "menu", "menu"])  # reordered, then doubled; two statuses lost
    assert one == Tally(lost=2, doubled=0, reordered=1)
    assert one + Tally(1, 2, 3) == Tally(3, 2, 4)


def test_matches_pair_each_reply_with_the_update_it_answers() -> None:
    # (index in expected, index in received), by received index; the extra "ask" pairs with none
    assert matches(["menu", "ask"], ["menu", "ask", "ask"]) == [(0, 0), (1, 1)]
    assert matches(["status:A", "status:B"], ["status:B", "status:A"]) == [(1, 0), (0, 1)]
    assert matches(FLOW, ["menu", "menu", *FLOW[1:]])[1:] == [(1, 2), (2, 3), (3, 4), (4, 5)]


def test_the_kind_of_a_reply_is_read_from_its_text_and_buttons() -> None:
    status = (
        "Case WAC2212345678 (I-765)\nStatus: Case Was Approved\n\n"
        "To check another case, type its receipt number."
    )
    assert kind_of(status, [["Check another case", "x"], ["Menu", "y"]]) == "status:WAC2212345678"
    assert kind_of("Hello! What would you like to do?", [["Check a case status", "c"]]) == "menu"
    assert kind_of("Please type your receipt number.", [["Menu", "m"]]) == "ask"
    assert kind_of("Something went wrong.", []) == "other"
