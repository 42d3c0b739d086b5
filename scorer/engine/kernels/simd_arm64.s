#include "textflag.h"
#include "neon_arm64.h"

// func neonStore(t unsafe.Pointer, rows, ts int, c unsafe.Pointer, cs int, bias, slope, res unsafe.Pointer, flags int)
//
// For each of rows ≥ 1 rows of 16 floats (the first at t, ts bytes apart) applies the
// epilogue that flags selects (epiBias, epiResFirst, epiReLU, epiPReLU, epiResLast; see
// neonEpi) and stores the row at c (rows cs bytes apart). bias and slope point at the 16
// channels' entries; the residual row r is at res + r*cs (the output's layout). Each row's
// residual is read before the row is stored, so res may be c itself. Registers: V0–V3 the
// row, V4–V7 the residual or min(x, 0), V16–V19 bias, V20–V23 slope, V24 zero; per row one
// 4-register load (two with a residual), one 4-register store; PReLU is
// FMLA(min(x,0), s, max(x,0)), as the amd64 kernels compute it.
// ADDRES adds the 16 residual values at R7 to V0–V3.
#define ADDRES \
	VLD1 (R7), [V4.S4, V5.S4, V6.S4, V7.S4]; \
	ADD16(4, 5, 6, 7)

TEXT ·neonStore(SB), NOSPLIT, $0-72
	MOVD t+0(FP), R0
	MOVD rows+8(FP), R1
	MOVD ts+16(FP), R2
	MOVD c+24(FP), R3
	MOVD cs+32(FP), R4
	MOVD bias+40(FP), R5
	MOVD slope+48(FP), R6
	MOVD res+56(FP), R7
	MOVD flags+64(FP), R8
	CBZ R1, done
	VEOR V24.B16, V24.B16, V24.B16
	TBZ $0, R8, nobias
	VLD1 (R5), [V16.S4, V17.S4, V18.S4, V19.S4]
nobias:
	TBZ $3, R8, row
	VLD1 (R6), [V20.S4, V21.S4, V22.S4, V23.S4]
row:
	VLD1.P (R0)(R2), [V0.S4, V1.S4, V2.S4, V3.S4]
	TBZ $0, R8, resfirst
	ADD16(16, 17, 18, 19)
resfirst:
	TBZ $1, R8, relu
	ADDRES
relu:
	TBZ $2, R8, prelu
	LANES4(FMAX4, 24, 0, 0)
prelu:
	TBZ $3, R8, reslast
	LANES4(FMIN4, 24, 0, 4)
	LANES4(FMAX4, 24, 0, 0)
	VFMLA V20.S4, V4.S4, V0.S4
	VFMLA V21.S4, V5.S4, V1.S4
	VFMLA V22.S4, V6.S4, V2.S4
	VFMLA V23.S4, V7.S4, V3.S4
reslast:
	TBZ $4, R8, store
	ADDRES
store:
	VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R3)
	ADD R4, R3, R3
	ADD R4, R7, R7
	SUBS $1, R1, R1
	BNE row
done:
	RET

// func neonTaps(n int, xs *unsafe.Pointer, wt unsafe.Pointer, ws int, out *[16]float32, bcast int)
//
// out[c] = Σ_t in_t[c] · wt[t*ws/4 + c] for 16 channels c over n ≥ 1 taps, tap t's input
// at xs[t], nil for a tap outside the input, which is skipped: with bcast = 1 the float32
// at xs[t] broadcast (the border pixels of a planar convolution), else the 16 floats from
// xs[t] (the border pixels of a depthwise convolution, and windows other than 3×3). Per
// tap one pointer load, one LD1R or 4-register LD1 of the input, one 4-register LD1 of the
// weights and 4 FMLA into V16–V19.
TEXT ·neonTaps(SB), NOSPLIT, $0-48
	MOVD n+0(FP), R0
	MOVD xs+8(FP), R1
	MOVD wt+16(FP), R2
	MOVD ws+24(FP), R3
	MOVD out+32(FP), R4
	MOVD bcast+40(FP), R5
	ZERO4(V16, V17, V18, V19)
loop:
	MOVD.P 8(R1), R7
	CBZ R7, outside
	TBZ $0, R5, vector
	BTAP16(R7, R2, R3, V4, V0, V1, V2, V3, V16, V17, V18, V19)
	B next
vector:
	VLD1 (R7), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P (R2)(R3), [V0.S4, V1.S4, V2.S4, V3.S4]
	VFMLA V0.S4, V4.S4, V16.S4
	VFMLA V1.S4, V5.S4, V17.S4
	VFMLA V2.S4, V6.S4, V18.S4
	VFMLA V3.S4, V7.S4, V19.S4
	B next
outside:
	ADD R3, R2, R2
next:
	SUBS $1, R0, R0
	BNE loop
	VST1 [V16.S4, V17.S4, V18.S4, V19.S4], (R4)
	RET
