"""Analyse one UTF-8 text document stored in S3.

Analyses (all by default): wordCount, keywords (most frequent non-stopwords), sentiment (a
small positive/negative word lexicon: score in [-1, 1] and a label) and readingTime (at 238
words per minute). A missing object is reported as {"found": false}; the state machine turns
that into a DocumentNotFound failure.
"""

import math
import re
from collections import Counter
from typing import Any

import boto3

ALL_ANALYSES = ["wordCount", "keywords", "sentiment", "readingTime"]
WORDS_PER_MINUTE = 238
WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _words(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your yours we'll we're it's that's there's don't didn't won't isn't can't per via
    next last new one two three"""
)
POSITIVE = _words(
    """good great excellent fast faster improved improvement love loved happy helpful easy
    smooth reliable stable success successful resolved delighted impressive pleased praise
    recommend win wins strong growth ahead quick clear friendly positive thanks"""
)
NEGATIVE = _words(
    """bad poor slow slower outage outages failed failure fail broken bug bugs crash crashed
    error errors angry frustrated frustrating confusing difficult delay delayed delays late
    refund complaint complaints lost loss degraded unavailable risk churn negative"""
)


def tokenize(text: str) -> list[str]:
    """Lower-case words of the text."""
    return WORD.findall(text.lower())


def sentiment(words: list[str]) -> dict[str, Any]:
    """Lexicon sentiment: (positive - negative) / (positive + negative)."""
    positive = sum(1 for word in words if word in POSITIVE)
    negative = sum(1 for word in words if word in NEGATIVE)
    hits = positive + negative
    score = round((positive - negative) / hits, 3) if hits else 0.0
    label = "positive" if score > 0.2 else "negative" if score < -0.2 else "neutral"
    return {"score": score, "label": label, "positiveWords": positive, "negativeWords": negative}


def keywords(words: list[str], limit: int) -> list[dict[str, Any]]:
    """The most frequent words that are not stopwords, ties in alphabetical order."""
    counts = Counter(word for word in words if len(word) > 2 and word not in STOPWORDS)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return [{"keyword": word, "count": count} for word, count in ranked[:limit]]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return {"found", "bucket", "key", "document", "results"} for the requested analyses."""
    bucket = event["bucket"]
    key = event["key"]
    analyses = event.get("analyses") or ALL_ANALYSES
    max_keywords = int(event.get("maxKeywords") or 5)

    s3 = boto3.client("s3")
    try:
        obj = s3.get_object(Bucket=bucket, Key=key)
    except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket):
        return {"found": False, "bucket": bucket, "key": key}
    text = obj["Body"].read().decode("utf-8", errors="replace")
    words = tokenize(text)

    results: dict[str, Any] = {}
    if "wordCount" in analyses:
        results["wordCount"] = len(words)
    if "keywords" in analyses:
        results["keywords"] = keywords(words, max_keywords)
    if "sentiment" in analyses:
        results["sentiment"] = sentiment(words)
    if "readingTime" in analyses:
        minutes = len(words) / WORDS_PER_MINUTE
        results["readingTime"] = {
            "minutes": max(1, math.ceil(minutes)) if words else 0,
            "seconds": round(minutes * 60),
            "wordsPerMinute": WORDS_PER_MINUTE,
        }
    return {
        "found": True,
        "bucket": bucket,
        "key": key,
        "document": {
            "uri": f"s3://{bucket}/{key}",
            "bytes": obj.get("ContentLength", len(text.encode("utf-8"))),
            "lines": text.count("\n") + (0 if text.endswith("\n") or not text else 1),
        },
        "results": results,
    }
