"""A fake webcam for Chromium: still images written as a short Y4M video, and the card images to film."""

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import zxingcpp


def write_y4m(image: np.ndarray, path: Path, frames: int = 10) -> Path:
    """Chromium's --use-file-for-fake-video-capture plays this file in a loop."""
    return write_slideshow_y4m([image], path, frames_each=frames, fps=30)


def write_slideshow_y4m(images: Sequence[np.ndarray], path: Path, frames_each: int = 2, fps: int = 2) -> Path:
    """One image after the other, each held frames_each / fps seconds, played in a loop: cards shown to the camera in turn."""
    height, width = images[0].shape[:2]
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for image in images:
            planes = _yuv_planes(image)
            for _ in range(frames_each):
                video.write(b"FRAME\n" + planes)
    return path


def _yuv_planes(image: np.ndarray) -> bytes:
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).tobytes()


def card_frame(iccid: str | None, symbology=zxingcpp.BarcodeFormat.Code128) -> np.ndarray:
    """A 1280x720 camera frame: a white carrier card on a desk, its barcode (of iccid, or of any
    text in the symbology) in the guide box."""
    frame = np.full((720, 1280), 70, dtype=np.uint8)
    cv2.rectangle(frame, (180, 200), (1100, 540), 245, thickness=-1)
    if iccid:
        bars = np.array(zxingcpp.create_barcode(iccid, symbology).to_image(scale=3))
        height, width = bars.shape
        top, left = 360 - height // 2, 640 - width // 2
        frame[top : top + height, left : left + width] = bars
        cv2.putText(frame, iccid, (left, top + height + 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 2)
    return frame
