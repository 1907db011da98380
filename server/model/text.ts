// Free text that people read (party names, carriers, who signed for a delivery): any
// script, but no control, format or line-separator characters and no lone surrogates —
// NUL, bidirectional overrides, zero-width joiners and the like make two names look alike
// or a log line lie; a lone surrogate is not text at all.
import { z } from "zod";

const INVISIBLE = /^[^\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]*$/u;

export const displayText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(INVISIBLE, "no control, format or invisible characters (NUL, bidi overrides, zero-width joiners…)");
