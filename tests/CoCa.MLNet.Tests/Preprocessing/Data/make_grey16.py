# Makes grey16.png (a 16-bit greyscale PNG) and what Pillow gives for it, as open_clip's transform would:
#   grey16_rgb.bin       Image.open(p).convert("RGB")                                 (150x97x3 bytes)
#   grey16_resized.bin   Resize(64, bicubic) -> CenterCrop(64) -> convert("RGB")      (64x64x3 bytes)
# Run with Debian's python3-pil (Pillow 9.4) and python3-numpy: /usr/bin/python3 make_grey16.py
import numpy as np
from PIL import Image

h, w = 97, 150
y, x = np.mgrid[0:h, 0:w]
values = 300 + 260 * np.sin(x / 7.0) * np.cos(y / 5.0)          # around the 255 clip point
values[:20, :30] = 40000 + 300 * x[:20, :30]                       # far above it
values[-15:, -25:] = (x[-15:, -25:] * 3) % 200                     # below it
Image.fromarray(values.astype(np.uint16)).save("grey16.png")

im = Image.open("grey16.png")
assert im.mode == "I", im.mode
open("grey16_rgb.bin", "wb").write(im.convert("RGB").tobytes())

short, long_ = 64, int(64 * w / h)                                # torchvision Resize(64): int() truncation
resized = im.resize((long_, short), Image.BICUBIC)
left = int(round((long_ - 64) / 2.0))
cropped = resized.crop((left, 0, left + 64, 64))
open("grey16_resized.bin", "wb").write(cropped.convert("RGB").tobytes())
print(im.mode, im.size, resized.mode, resized.size, left)
