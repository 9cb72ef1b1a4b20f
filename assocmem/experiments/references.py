"""Published numbers that the reports and tests compare our results against, with their sources.

Every constant below cites where its numbers come from (paper, table or figure, or the authors' public
code), so the project needs no file outside the repository to judge a result.

  seed 000  E. Spens and N. Burgess, "A generative model of memory construction and consolidation",
            Nature Human Behaviour (2024); numbers read off the authors' public code and its committed
            results, github.com/ellie-as/generative-memory (TF/Keras).

(Helper A's branch creates this module with the seed 002 sections; the consolidation section below is
the same text as theirs, so at merge A's file is kept as it is.)
"""

from __future__ import annotations

# --------------------------------------------------------------------------- seed 000, consolidation

# Seed 000, the authors' consolidation run (ellie-as/generative-memory; Shapes3D, 10,000 images in
# [−1, 1], MHN β = 20, 10,000 replays from U(−1, 1) noise, VAE latent 20, batch 32, up to 50 epochs).
# Shape decoding accuracy (SVC on 200 train / 750 test latent means, 4 classes) at the start of each
# epoch, read off its committed CSV and plots (approximate where from a plot, e.g. epochs 8–13).
AUTHORS_DECODING: dict[int, float] = {1: 0.38, 2: 0.28, 3: 0.31, 4: 0.36, 5: 0.46, 6: 0.53, 8: 0.57,
                                      13: 0.57, 21: 0.64, 31: 0.72, 41: 0.80, 50: 0.83}
# Same source: training reconstruction loss (per-pixel mean absolute error summed over the image,
# mean over the epoch's batches of replays) by epoch, read off its plot (approximate).
AUTHORS_RECON_LOSS: dict[int, float] = {1: 368.0, 2: 151.0, 10: 84.0, 30: 54.0, 50: 47.0}
# Same source: few-shot shape decoding (SVC) after consolidation, by number of training examples,
# from the latents and from raw pixels (approximate where from a plot).
AUTHORS_FEW_SHOT: dict[str, dict[int, float]] = {
    "latents": {10: 0.40, 50: 0.60, 100: 0.75, 200: 0.86, 1000: 0.92},
    "pixels": {200: 0.43, 500: 0.63, 1000: 0.75},
}
# Same source: the extended (hybrid) model, error threshold -> (SSE per image, stored sensory units of
# 12,288), read off its plot (approximate).
AUTHORS_HYBRID: dict[float, tuple[float, int]] = {
    0.01: (20.0, 4690), 0.05: (115.0, 2170), 0.10: (209.0, 1300), 0.15: (359.0, 880), 0.20: (531.0, 690),
}
# Same source: boundary extension, median relative change of the object's size in recalls, by zoom
# of the presented image (approximate; ~0 at 100–105 %).
AUTHORS_BOUNDARY_EXTENSION: dict[float, float] = {1.20: -0.15, 1.00: 0.0, 1.05: 0.0, 0.80: 0.16}
# Same source (MNIST, small VAE): per-pixel within-class variance is lower for recalls than for the
# inputs, in this many of the 10 digit classes (prototypical distortion).
AUTHORS_PROTOTYPE_CLASSES_LOWER_VARIANCE = 10
