#include "textflag.h"
#include "neon_arm64.h"

// func neonConv6x16(offs *int32, n int, x unsafe.Pointer, s int, wt unsafe.Pointer, ws int, tile *[96]float32)
//
// tile[p*16+c] = Σ_t x[offs[t] + p*s/4] · wt[t*ws/4 + c] for output pixels p = 0..5 (their
// first taps s bytes apart) and 16 channels c, over the n ≥ 1 taps whose offsets (in
// floats, from pixel 0's first tap) are offs[0..n-1], tap t's 16 weights at wt + t*ws
// bytes. Registers as in neonGemm6x16: V8–V31 accumulate, V0–V3 the tap's weights, V4–V7
// the broadcast inputs; per tap one 4-register LD1 of weights, 6 LD1R and 24 FMLA.
TEXT ·neonConv6x16(SB), NOSPLIT, $0-56
	MOVD offs+0(FP), R0
	MOVD n+8(FP), R1
	MOVD x+16(FP), R2
	MOVD s+24(FP), R3
	MOVD wt+32(FP), R4
	MOVD ws+40(FP), R5
	MOVD tile+48(FP), R6
	ZERO24
loop:
	MOVW.P 4(R0), R7
	ADD R7<<2, R2, R8
	VLD1.P (R4)(R5), [V0.S4, V1.S4, V2.S4, V3.S4]
	TILE6x16((R8)(R3), (R8)(R3), (R8)(R3), (R8)(R3), (R8)(R3), (R8)(R3))
	SUBS $1, R1, R1
	BNE loop
	STORE24(R6)
	RET

// OFFTAP is one tap of neonConv1x16: its offset from offs (R0, advanced), its input from
// x (R2) broadcast into b, its weights from wt (R3, advanced by ws in R4) into w0–w3,
// the products added to a0–a3.
#define OFFTAP(b, w0, w1, w2, w3, a0, a1, a2, a3) \
	MOVW.P 4(R0), R7; \
	ADD R7<<2, R2, R8; \
	BTAP16(R8, R3, R4, b, w0, w1, w2, w3, a0, a1, a2, a3)

// func neonConv1x16(offs *int32, n int, x unsafe.Pointer, wt unsafe.Pointer, ws int, out *[16]float32)
//
// out[c] = Σ_t x[offs[t]] · wt[t*ws/4 + c] for 16 channels c over n ≥ 1 taps: one output
// pixel of neonConv6x16 (a 256-channel 3×3 head has 2,304 taps). Two taps per iteration
// into two sets of accumulators (V16–V19, V20–V23), so that eight FMLA chains are in
// flight; per tap one 4-register LD1, one LD1R and 4 FMLA.
TEXT ·neonConv1x16(SB), NOSPLIT, $0-48
	MOVD offs+0(FP), R0
	MOVD n+8(FP), R1
	MOVD x+16(FP), R2
	MOVD wt+24(FP), R3
	MOVD ws+32(FP), R4
	MOVD out+40(FP), R5
	ZERO4(V16, V17, V18, V19)
	ZERO4(V20, V21, V22, V23)
	CMP $2, R1
	BLT tail
loop2:
	OFFTAP(V4, V0, V1, V2, V3, V16, V17, V18, V19)
	OFFTAP(V5, V8, V9, V10, V11, V20, V21, V22, V23)
	SUB $2, R1, R1
	CMP $2, R1
	BGE loop2
tail:
	CBZ R1, done
	OFFTAP(V4, V0, V1, V2, V3, V16, V17, V18, V19)
done:
	FADD4(20, 16, 16)
	FADD4(21, 17, 17)
	FADD4(22, 18, 18)
	FADD4(23, 19, 19)
	VST1 [V16.S4, V17.S4, V18.S4, V19.S4], (R5)
	RET
