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
also holds a seeded random set ("random") made here, and the PTB tokenization of every "tokenizer" case.
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

    # The tokenizer cases, all in one run as pycocoevalcap tokenizes a data set (one caption a line).
    tok = tokenizer.tokenize({str(k): [{"caption": c}] for k, c in enumerate(cases["tokenizer"])})
    tokenized = [{"caption": c, "tokenized": tok[str(k)][0]} for k, c in enumerate(cases["tokenizer"])]

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


if __name__ == "__main__":
    main()
