"""The seeds' contradictions: each topic is a question and the registry identities that
answer it. The report shows each identity's source, expected and measured verdict next to
the others, so the text here states only the question; the answers are the run's.

Names are checked against the registry when the report is built (a renamed identity is an
error, not a silently shorter section). The keep-probability topic is not a list: it
selects every identity whose source or notation says that a text writes p for the keep
probability.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Topic", "TOPICS", "P_FOR_KEEP", "members"]


@dataclass(frozen=True)
class Topic:
    slug: str
    title: str
    question: str
    names: tuple = ()
    #: a regular expression over source and notation selecting the members instead of names
    pattern: str | None = None


#: how a source or notation says a text uses p for the keep probability
P_FOR_KEEP = (r"writes p for the keep probability|p is (this q|the keep probability)|"
              r"Srivastava's p")

TOPICS = (
    Topic("batchnorm-order", "Dropout before or after BatchNorm (seeds 000 and 002)",
          "Seed 000 says to apply dropout after all normalization layers; seed 002 says to "
          "apply it before BatchNorm, not after. Which order leaves BatchNorm's test-time "
          "statistics unshifted, and how large is the shift of the other?",
          ("batchnorm.order", "batchnorm.order-seed000", "batchnorm.order-seed002",
           "batchnorm.test-shift", "batchnorm.recalibration")),
    Topic("mc-dropout-linear", "MC dropout is unbiased only for linear outputs",
          "Seed 000 says the mean of the MC dropout predictions is an unbiased estimate of "
          "the deterministic output. Where is that exact, and what is the bias where it is not?",
          ("mc-dropout.linear-unbiased", "mc-dropout.nonlinear-bias", "ensemble.depth-gap")),
    Topic("weight-scaling", "Weight scaling is exact only where it is",
          "Seeds 000 and 001 call the weight-scaling inference rule exact for linear models "
          "(seed 001: for single hidden layers). Where is the weight-scaled network the "
          "average of its sub-networks, and of which average?",
          ("ensemble.weight-scaling-linear", "ensemble.nwgm-sigmoid", "ensemble.nwgm-softmax",
           "ensemble.arithmetic-vs-geometric", "ensemble.depth-gap")),
    Topic("p-for-keep", "Texts that write p for the keep probability",
          "This project writes p for the drop probability (as torch.nn.Dropout(p)) and q = 1 - p "
          "for the keep probability. Seed 003 (and seed 000's Jensen paragraph, and the papers "
          "below) write p for the keep probability; each statement here is registered in its "
          "source's meaning, translated to q.", pattern=P_FOR_KEEP),
)


def members(topic: Topic, known: dict) -> list:
    """The registry identities of ``topic`` (``known``: name -> identity), in its order."""
    if topic.pattern is not None:
        found = re.compile(topic.pattern, re.IGNORECASE)
        return [i for i in known.values() if found.search(f"{i.source} {i.notation}")]
    missing = [name for name in topic.names if name not in known]
    if missing:
        raise ValueError(f"report topic {topic.slug!r} names unknown identities {missing}")
    return [known[name] for name in topic.names]
