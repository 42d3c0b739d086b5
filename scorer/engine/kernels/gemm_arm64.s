#include "textflag.h"
#include "neon_arm64.h"

// func neonGemm6x16(k int, a *[6]unsafe.Pointer, b unsafe.Pointer, bs int, tile *[96]float32)
//
// tile = A[0:6, 0:k] · B[0:k, 0:16] for the 6 rows of A whose first elements a[0..5] point
// at (a row may repeat: the tails pass their last row again) and 16 columns of a packed B
// panel at b (rows bs bytes apart); k ≥ 1. V8–V31 accumulate (row r in V(8+4r)–V(11+4r)),
// V0–V3 hold the B row, V4–V7 the broadcast A elements in turn: per k step one 4-register
// LD1 of B (64 bytes), 6 LD1R broadcasts and 24 FMLA, i.e. 24 FMAs per 7 load
// instructions, all 32 vector registers, nothing on the stack.
TEXT ·neonGemm6x16(SB), NOSPLIT, $0-40
	MOVD k+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD bs+24(FP), R3
	MOVD tile+32(FP), R4
	LDP 0(R1), (R5, R6)
	LDP 16(R1), (R7, R8)
	LDP 32(R1), (R9, R10)
	ZERO24
loop:
	VLD1.P (R2)(R3), [V0.S4, V1.S4, V2.S4, V3.S4]
	TILE6x16(4(R5), 4(R6), 4(R7), 4(R8), 4(R9), 4(R10))
	SUBS $1, R0, R0
	BNE loop
	STORE24(R4)
	RET
