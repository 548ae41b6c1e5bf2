import type { tf } from '@patchcert/backend';

/** What every attack in this package returns. Per-image arrays are indexed like the input batch. */
export interface AttackResult {
  /**
   * The kept iterate per image `[batch, height, width, channels]` (pixels): a fooling iterate when
   * one was found (the highest-loss one among those), else the highest-loss iterate; the clean
   * image for images the model already gets wrong. The caller disposes it.
   */
  adversarial: tf.Tensor4D;
  /** 1 when the (defended) model is fooled on the clean image or on any evaluated iterate. */
  success: Uint8Array;
  /**
   * 1 when the highest-cross-entropy iterate fools the model: the reference's rule (it keeps the
   * best iterate by loss and never asks whether another one misclassified). Never above `success`.
   */
  successByBestLoss: Uint8Array;
  /** 1 when the (defended) model classifies the clean image correctly. */
  cleanCorrect: Uint8Array;
  /** Predicted class of the (defended) model on `adversarial`. */
  adversarialPrediction: Int32Array;
  /** Objective of the kept iterate: cross-entropy of the label (untargeted) or −CE of the target. */
  bestLoss: Float32Array;
  /** Target class per image for targeted attacks, else undefined. */
  targets: Int32Array | undefined;
  /** Fraction of images classified correctly on the clean input. */
  cleanAccuracy: number;
  /**
   * Fraction of images the attack did not break: clean-correct and, untargeted, never
   * misclassified; targeted, never sent to the target.
   */
  adversarialAccuracy: number;
  /** Image evaluations spent (rows × scored iterates). */
  evaluations: number;
}

/** A patch attack's result also says where the kept iterate's patch sits. */
export interface PatchAttackResult extends AttackResult {
  /** `[batch · 2]` (row, col) of the kept iterate's patch origin; −1 when no patch ran (clean already wrong). */
  location: Int32Array;
}
