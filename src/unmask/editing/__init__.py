"""Editing: regenerate a marked region of an image (inpainting, outpainting, class-guided edits), of
some frames of a clip, or of one stream of a joint model, with any sampler.

Every sampler treats the tokens of its starting state that are not [MASK] as given: they are never
masked, never redrawn, and the network sees them at every call (``unmask.samplers``). An edit is
therefore only a starting state: the given tokens, with [MASK] where the region to regenerate
lies (``unmask.samplers.edit_init``). This module builds that state:

* ``read_image`` reads the image to edit (a PNG, a ``.npy`` of uint8, or ``test:17`` — an item of
  the run's dataset split) as uint8 (H, W); ``read_clip`` a clip (a ``.npy`` (T, H, W) or an item);
* ``region_mask`` reads or builds the pixel region to regenerate (a PNG / ``.npy``, nonzero =
  regenerate; or ``centre``, ``border:K``, ``half:left|right|top|bottom``, ``random-half:SEED``);
* ``token_region`` maps that pixel region onto the token grid of the checkpoint's tokenizer: a
  pixel tokenizer keeps it as it is (after resizing both to the model's grid); a VQ tokenizer
  regenerates every code whose cell (f × f pixels for a down-sampling factor f) the region touches
  — its receptive field is wider than its cell, so pixels just outside the region may change in
  the decoded image, and ``EditPlan.note`` says so;
* ``plan_edit`` (image models), ``plan_video_edit`` (video models: the frames ``parse_frames``
  selects, whole or within a 2-D region; frames K … T − 1 whole is continuation, the same
  starting state as ``unmask.samplers.continuation_init``) and ``plan_joint_edit`` (joint
  multi-stream models: a region of one stream regenerated with the other streams given whole, or
  some of them generated too);
* ``edit`` (image and video plans) draws K completions of each image or clip, and ``edit_streams``
  (joint plans) runs ``MultiStreamSampler`` with the edited stream given in part; both return the
  tokens and the region, so callers can check that no given token changed.

The package's modules: ``inputs`` (reading images and clips), ``regions`` (pixel regions and
frames), ``plan`` (image and video plans, tokens and token regions), ``run`` (``edit``) and
``joint`` (plans and runs of joint models).
"""

from __future__ import annotations

from .inputs import parse_item, read_clip, read_image
from .joint import JointEditPlan, JointEditResult, edit_streams, plan_joint_edit
from .plan import EditPlan, encode_images, plan_edit, plan_video_edit, token_region
from .regions import REGION_SHAPES, parse_frames, region_mask
from .run import EditResult, edit

__all__ = [
    "REGION_SHAPES",
    "EditPlan",
    "EditResult",
    "JointEditPlan",
    "JointEditResult",
    "parse_item",
    "read_image",
    "read_clip",
    "region_mask",
    "token_region",
    "parse_frames",
    "encode_images",
    "plan_edit",
    "plan_video_edit",
    "plan_joint_edit",
    "edit",
    "edit_streams",
]
