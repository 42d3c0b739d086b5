// Package metrics computes the presentation-attack-detection error rates of ISO/IEC 30107-3 from
// labelled liveness scores, for `spoofsense eval`. It is pure computation: a slice of [Sample] in,
// a JSON-ready [Report] out, plus [Compare] for regressions against a baseline report and [Gates]
// for pass/fail limits.
//
// # Vocabulary and decision rule
//
// A bona fide presentation is a live face; an attack presentation is a spoof, and its PAI species
// is the attack type ("print", "replay", …; an attack without a recorded type is "unknown"). A
// presentation is classified bona fide when its score (prob_real, higher = more live) is at least
// the threshold: score ≥ threshold.
//
// # Rates at a threshold
//
//   - APCER(species) = attack presentations of that species classified bona fide, divided by the
//     attack presentations of that species that got a score.
//   - APCER = the maximum of APCER(species) over the species that have at least one scored
//     presentation: the standard's worst case. [Report.APCERPooled] is the same rate over all
//     attack presentations pooled; it is the figure docs/PIPELINE.md §1.7 quotes.
//   - BPCER = bona fide presentations classified attack, divided by the scored bona fide ones.
//   - ACER = (APCER + BPCER) / 2 with the worst-case APCER. ACER is not an ISO/IEC 30107-3 metric;
//     it is the convention of PAD competitions and is labelled so.
//   - Non-responses (no face found, unreadable input) are not classifier errors: they are left out
//     of APCER and BPCER and reported as APNRR and BPNRR, the non-responses of each class divided by
//     all presentations of that class, with their counts.
//
// Every rate carries its counts and a Wilson score confidence interval (95% unless
// [Options.Confidence] says otherwise); see [Wilson].
//
// # Threshold-free metrics
//
// The ROC/DET curve, ROC AUC, EER and the fixed-rate operating points use all attack
// presentations pooled against all bona fide presentations (non-responses left out); one curve
// per species would not give a single threshold. The curve has one point per distinct score t
// (APCER and BPCER when the threshold is t) plus a final point just above the highest score where
// everything is rejected, so it runs from (APCER 1, BPCER 0) to (APCER 0, BPCER 1).
//
//   - AUC is the Mann–Whitney statistic: the probability that a random bona fide presentation
//     scores higher than a random attack presentation, ties counting one half. It is also
//     computed per species (that species' attacks against all bona fide presentations).
//   - EER is where APCER = BPCER. APCER − BPCER strictly decreases along the curve, so it changes
//     sign once; the EER is read off the straight segment between the two curve points that
//     bracket the sign change, and the EER threshold is interpolated linearly in score along the
//     same segment. When a curve point has APCER = BPCER exactly, that point is the EER.
//   - BPCER@APCER=x is the lowest BPCER among curve points with (pooled) APCER ≤ x; evaluating
//     at its threshold, a score of the evaluated set, reproduces exactly that pooled APCER and
//     BPCER on this set. "BPCER20" is BPCER@APCER=5%; docs/PIPELINE.md quotes it pooled.
//   - APCER@BPCER=x is the lowest APCER among curve points with BPCER ≤ x.
//   - BPCER@worst APCER=x is the lowest BPCER among curve points where every species' APCER is
//     at most x. Its threshold is the recommended threshold for target APCER x
//     ([Report.RecommendedThreshold]): there the worst-case APCER, the one reported as APCER and
//     checked by a max_apcer gate, meets the target, which the pooled point does not promise.
//
// # Undefined values
//
// A rate over zero presentations, an AUC without both classes, and the like are undefined. They
// are never NaN: a [Value] has Valid == false, prints as "n/a" and encodes as JSON null, and the
// report lists why in [Report.Warnings].
package metrics
