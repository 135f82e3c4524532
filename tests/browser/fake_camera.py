"""A fake webcam for Chromium: a still image written as a short Y4M video."""

from pathlib import Path

import cv2
import numpy as np


def write_y4m(image: np.ndarray, path: Path, frames: int = 10) -> Path:
    """Chromium's --use-file-for-fake-video-capture plays this file in a loop."""
    height, width = image.shape[:2]
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    planes = cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).tobytes()
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + planes)
    return path
