#!/usr/bin/env python3
"""Writes caption-metrics-reference.json: pycocoevalcap's own numbers for the cases in caption-metrics-cases.json.

CaptionMetricsReferenceTests compares CoCa.MLNet's BLEU, ROUGE-L, CIDEr-D and PTB tokenization with this file.

Regenerate (nothing here is copied into the repository; pycocoevalcap stays outside it):

    git clone https://github.com/salaniz/pycocoevalcap /tmp/pycocoevalcap     # commit ad63453 (Nov 2020) was used
    /usr/bin/python3 make_caption_metrics_reference.py /tmp/pycocoevalcap     # needs numpy and Java

pycocoevalcap's tokenizer runs Stanford CoreNLP 3.4.1's PTBTokenizer from tokenizer/stanford-corenlp-3.4.1.jar (a
Git LFS file in that repository). Where the jar cannot be downloaded, build it from CoreNLP's sources at tag v3.4.1
(javac --release 8 -sourcepath src src/edu/stanford/nlp/process/PTBTokenizer.java, then jar the classes under that
name); the numbers here were made that way, with Java 17.

Each set is tokenized by pycocoevalcap's PTBTokenizer (references and candidates in separate runs, as COCOEvalCap
does) and scored by Bleu(4), Rouge() and Cider() on the tokenized text, as COCOEvalCap.evaluate() does. The file
also holds a seeded random set ("random") made here, and the PTB tokenization of every "tokenizer" case and of 400
seeded random punctuation-heavy captions.
"""
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = os.path.abspath(sys.argv[1])
    sys.path.insert(0, os.path.dirname(root))
    package = os.path.basename(root)
    tokenizer = __import__(package + ".tokenizer.ptbtokenizer", fromlist=["PTBTokenizer"]).PTBTokenizer()
    Bleu = __import__(package + ".bleu.bleu", fromlist=["Bleu"]).Bleu
    Rouge = __import__(package + ".rouge.rouge", fromlist=["Rouge"]).Rouge
    Cider = __import__(package + ".cider.cider", fromlist=["Cider"]).Cider

    with open(os.path.join(HERE, "caption-metrics-cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    sets = cases["sets"] + [random_set()]

    out_sets = []
    for s in sets:
        gts = {im["id"]: [{"caption": r} for r in im["references"]] for im in s["images"]}
        res = {im["id"]: [{"caption": im["candidate"]}] for im in s["images"]}
        gts_tok = tokenizer.tokenize(gts)
        res_tok = tokenizer.tokenize(res)
        bleu, bleu_per_image = Bleu(4).compute_score(gts_tok, res_tok, verbose=0)
        rouge, rouge_per_image = Rouge().compute_score(gts_tok, res_tok)
        cider, cider_per_image = Cider().compute_score(gts_tok, res_tok)
        ids = list(gts_tok.keys())
        out_sets.append({
            "name": s["name"],
            "note": s.get("note", ""),
            "images": [{
                "id": i,
                "candidate": res[i][0]["caption"],
                "references": [r["caption"] for r in gts[i]],
                "candidate_tokenized": res_tok[i][0],
                "references_tokenized": gts_tok[i],
                "scores": {"Bleu_1": bleu_per_image[0][k], "Bleu_2": bleu_per_image[1][k], "Bleu_3": bleu_per_image[2][k],
                           "Bleu_4": bleu_per_image[3][k], "ROUGE_L": float(rouge_per_image[k]), "CIDEr": float(cider_per_image[k])},
            } for k, i in enumerate(ids)],
            "scores": {"Bleu_1": bleu[0], "Bleu_2": bleu[1], "Bleu_3": bleu[2], "Bleu_4": bleu[3],
                       "ROUGE_L": float(rouge), "CIDEr": float(cider)},
        })

    # The tokenizer cases and 400 seeded random punctuation-heavy ones, in one run as pycocoevalcap tokenizes a data set
    # (a caption a line), each followed by a plain line: a few PTB rules look past the end of a line (a single letter and
    # a period before a line starting "The ..."), which CoCa.MLNet, reading each caption alone, does not reproduce.
    captions = cases["tokenizer"] + random_captions()
    lines = {}
    for k, c in enumerate(captions):
        lines["case%d" % k] = [{"caption": c}]
        lines["next%d" % k] = [{"caption": "zz"}]
    tok = tokenizer.tokenize(lines)
    tokenized = [{"caption": c, "tokenized": tok["case%d" % k][0]} for k, c in enumerate(captions)]

    with open(os.path.join(HERE, "caption-metrics-reference.json"), "w", encoding="utf-8") as f:
        json.dump({"generated_by": "make_caption_metrics_reference.py with pycocoevalcap ad63453 (Bleu(4), Rouge(), Cider(), PTBTokenizer on CoreNLP 3.4.1)",
                   "sets": out_sets, "tokenizer": tokenized}, f, ensure_ascii=False, indent=1)


def random_set():
    """150 images with 5 references each from a small vocabulary, so n-grams repeat across images (CIDEr's df)."""
    rng = random.Random(20)
    subjects = ["a man", "a woman", "two dogs", "a cat", "the child", "a group of people", "an old bus", "a red car"]
    verbs = ["is riding", "sits on", "walks next to", "looks at", "stands near", "is holding", "plays with"]
    objects = ["a bike", "the beach", "a table", "a large kite", "the street", "a wooden bench", "some food", "a computer"]
    extras = ["", "", " in the park", " at night", " on a sunny day", ", smiling", " (outside)", " -- very happy"]
    ends = ["", ".", ".", "!", " ."]

    def caption():
        text = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}{rng.choice(extras)}{rng.choice(ends)}"
        return text[0].upper() + text[1:] if rng.random() < 0.6 else text

    images = []
    for k in range(150):
        candidate = caption() if k % 10 else ""
        images.append({"id": str(100000 + k * 7), "candidate": candidate, "references": [caption() for _ in range(5)]})
    return {"name": "random", "note": "150 seeded random images, 5 references each, every tenth candidate empty", "images": images}


def random_captions():
    """Captions built from words, abbreviations, contractions, numbers, symbols and unicode, glued with or without spaces."""
    rng = random.Random(7)
    words = ["a", "A", "dog", "Dog", "the", "The", "man", "I", "it", "U.S.", "u.s", "e.g.", "i.e.", "Mr", "Mr.", "St.", "st", "vs.",
             "etc.", "Inc.", "Co.", "No.", "Fig.", "a.m.", "don't", "can't", "won't", "it's", "dog's", "dogs'", "they're", "I'm",
             "we've", "you'll", "he'd", "isn't", "o'clock", "O'Neil", "rock'n'roll", "'n'", "cannot", "gonna", "wanna", "t-shirt",
             "well-known", "3-year-old", "x-ray", "co-op", "caf\u00e9", "na\u00efve", "\u00dcber", "\u00c9COLE", "stra\u00dfe",
             "\u732b", "\u3053\u3093\u306b\u3061\u306f", "\u039f\u0394\u039f\u03a3", "3.5", "1,000", "10:30", "1/2", "12/25/2020",
             "2nd", "1990s", "'90s", "$5", "US$", "\u00a3", "\u20ac", "50%", "#1", "@home", "#tag", "www.google.com", "google.com",
             "http://x.org/a", "a@b.com", "photo.jpg", "C++", "C#", "AT&T", "and/or", "24/7", "hello.world", "x\u00b2", "H\u2082O",
             "\u00a9", "\u00b0C", "\u2026", "\u2014", "\u2013", "\u2018", "\u2019", "\u201c", "\u201d", "\u00ab", "\u00bb",
             "\u00bd", "\U0001F436", "A.", "b.", "x."]
    puncts = [".", ",", ";", ":", "!", "?", "!!", "?!", "...", "..", ". . .", "'", "\"", "`", "``", "''", "(", ")", "[", "]", "{",
              "}", "-", "--", "---", "-----", "$", "%", "&", "*", "/", "\\", "@", "#", "+", "=", "<", ">", "~", "^", "|", "_",
              ":)", ";)", ":-)", "&amp;", "&quot;"]
    result = []
    for _ in range(400):
        text = ""
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            if r < 0.55:
                part = rng.choice(words)
            elif r < 0.85:
                part = rng.choice(puncts)
            elif rng.random() < 0.5:
                part = str(rng.randint(0, 20000))
            else:
                part = "".join(rng.choice("abcdefXYZ.'-,!?0123") for _ in range(rng.randint(1, 6)))
            text += ("" if rng.random() < 0.3 else " ") + part
        result.append(text.strip())
    return result


if __name__ == "__main__":
    main()
