"""Choosing and answering password-reset questions while an account is made: the person picks
a question, types its answer (a secret, kept sealed with the flow's other secrets), and goes on
once ``MIN_QUESTIONS`` are answered."""

from __future__ import annotations

import enum
from typing import Any, Final, TypeVar

from bot.dialogs.accounts.common import (
    QUESTION_LABELS,
    QUESTION_TEXTS,
    Secret,
    keep_secrets,
    kept_secrets,
)
from bot.dialogs.base import Button, Next, Prompt, Stay, Step, Transition
from bot.dialogs.context import Context
from bot.wording.i18n import N_
from core.accounts.questions import RESET_QUESTION_IDS, validate_answers

__all__ = ["DONE", "MIN_QUESTIONS", "QUESTION", "answered", "question_steps"]

S = TypeVar("S", bound=enum.Enum)

MIN_QUESTIONS: Final = 2
DONE: Final = "done"
QUESTION: Final = "q:"


def answered(ctx: Context) -> list[str]:
    """The questions answered so far, in the order they were."""
    answered = ctx.data.get("answered")
    return [q for q in answered if q in QUESTION_TEXTS] if isinstance(answered, list) else []


def question_steps(*, ask: S, answer: S, then: S) -> dict[S, Step[Any]]:
    """The two steps: ``ask`` (choose a question, or Done) and ``answer`` (type its answer);
    Done goes to ``then``."""

    def questions_prompt(ctx: Context) -> Prompt:
        done = answered(ctx)
        choices = [
            Button(ctx._(QUESTION_LABELS[q]), QUESTION + q)
            for q in RESET_QUESTION_IDS
            if q not in done
        ]
        if len(done) >= MIN_QUESTIONS:
            choices.insert(0, Button(ctx._("Done"), DONE))
            text = ctx.ngettext(
                "You have answered {n} security question. You can add another one, or press Done.",
                "You have answered {n} security questions. You can add another one, or press Done.",
                len(done),
            ).format(n=len(done))
        else:
            text = ctx._(
                "If you forget your password, we will ask you one of your security questions. "
                "Please choose a question to answer ({n} of {total}).",
            ).format(n=len(done) + 1, total=MIN_QUESTIONS)
        return Prompt(text, choices)

    async def handle_question(ctx: Context, value: str) -> Transition:
        if value == DONE and len(answered(ctx)) >= MIN_QUESTIONS:
            return Next(then)
        question = value.removeprefix(QUESTION)
        if value.startswith(QUESTION) and question in QUESTION_TEXTS:
            ctx.data["question"] = question
            return Next(answer)
        return Stay()

    def answer_prompt(ctx: Context) -> str:
        question = QUESTION_TEXTS.get(str(ctx.data.get("question")), QUESTION_TEXTS["first_pet"])
        return ctx._(
            "{question}\nPlease type your answer. Keep it simple: you will need it later."
        ).format(question=ctx._(question))

    def parse_answer(ctx: Context, text: str) -> Secret:
        validate_answers({str(ctx.data.get("question")): text})  # InvalidResetAnswer: empty or long
        return Secret(text)

    async def handle_answer(ctx: Context, value: Secret | str) -> Transition:
        question = str(ctx.data.get("question"))
        if not isinstance(value, Secret) or question not in QUESTION_TEXTS:
            return Next(ask)
        answers: dict[str, Any] = dict((kept_secrets(ctx) or {}).get("answers") or {})
        answers[question] = value.text
        keep_secrets(ctx, answers=answers)
        ctx.data["answered"] = [*(q for q in answered(ctx) if q != question), question]
        ctx.data.pop("question", None)
        return Next(ask)

    return {
        ask: Step(
            prompt=questions_prompt,
            handle=handle_question,
            goes_to=(answer, then),
        ),
        answer: Step(
            prompt=answer_prompt,
            parse=parse_answer,
            handle=handle_answer,
            secret=True,
            input_kind="answer",
            goes_to=(ask,),
            help=N_("Capital letters, accents and extra spaces in answers do not matter."),
        ),
    }
