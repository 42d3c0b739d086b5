#include "textflag.h"
#include "neon_arm64.h"

// func neonDw3x3Row8(n int, x unsafe.Pointer, rs, cs, ps int, w unsafe.Pointer, tile unsafe.Pointer)
//
// For n ≥ 1 output pixels of a 3×3 depthwise convolution whose windows lie inside the
// input, 8 channels: tile[i*16 + c] = Σ_{ky,kx} x[i*ps + ky*rs + kx*cs + c] · w[(3ky+kx)*cs + c]
// (offsets in bytes; x is pixel 0's top-left tap, cs the input's pixel stride, which is
// also the weights' tap stride, ps the step between output pixels: cs·stride). The 18
// weight vectors stay in V14–V31; each window row sums into its own pair of accumulators
// (V0/V1, V8/V9, V10/V11: three chains of 3 FMLA per half instead of one of 9), added at
// the end. Per pixel: 9 two-register LD1 (18 vectors), 18 FMLA, 4 FADD and one
// two-register store, i.e. one FMA per loaded vector; adjacent stride-1 windows share
// two of their three columns, which this kernel loads again.
// DWROW adds one window row to the accumulators a0 (channels 0–3) and a1 (4–7): the
// three taps' inputs at R7, R7+cs, R7+2cs (cs in R3) times the weights w0..w5 (tap 0's two
// halves, tap 1's, tap 2's): 3 two-register LD1, 6 FMLA.
#define DWROW(w0, w1, w2, w3, w4, w5, a0, a1) \
	VLD1.P (R7)(R3), [V2.S4, V3.S4]; \
	VLD1.P (R7)(R3), [V4.S4, V5.S4]; \
	VLD1 (R7), [V6.S4, V7.S4]; \
	VFMLA w0.S4, V2.S4, a0.S4; \
	VFMLA w1.S4, V3.S4, a1.S4; \
	VFMLA w2.S4, V4.S4, a0.S4; \
	VFMLA w3.S4, V5.S4, a1.S4; \
	VFMLA w4.S4, V6.S4, a0.S4; \
	VFMLA w5.S4, V7.S4, a1.S4

TEXT ·neonDw3x3Row8(SB), NOSPLIT, $0-56
	MOVD n+0(FP), R0
	MOVD x+8(FP), R1
	MOVD rs+16(FP), R2
	MOVD cs+24(FP), R3
	MOVD ps+32(FP), R4
	MOVD w+40(FP), R5
	MOVD tile+48(FP), R6
	VLD1.P (R5)(R3), [V14.S4, V15.S4]
	VLD1.P (R5)(R3), [V16.S4, V17.S4]
	VLD1.P (R5)(R3), [V18.S4, V19.S4]
	VLD1.P (R5)(R3), [V20.S4, V21.S4]
	VLD1.P (R5)(R3), [V22.S4, V23.S4]
	VLD1.P (R5)(R3), [V24.S4, V25.S4]
	VLD1.P (R5)(R3), [V26.S4, V27.S4]
	VLD1.P (R5)(R3), [V28.S4, V29.S4]
	VLD1 (R5), [V30.S4, V31.S4]
	MOVD $64, R9
loop:
	ZERO4(V0, V1, V8, V9)
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	MOVD R1, R7
	DWROW(V14, V15, V16, V17, V18, V19, V0, V1)
	ADD R2, R1, R7
	DWROW(V20, V21, V22, V23, V24, V25, V8, V9)
	ADD R2<<1, R1, R7
	DWROW(V26, V27, V28, V29, V30, V31, V10, V11)
	FADD4(8, 0, 0)
	FADD4(9, 1, 1)
	FADD4(10, 0, 0)
	FADD4(11, 1, 1)
	VST1.P [V0.S4, V1.S4], (R6)(R9)
	ADD R4, R1, R1
	SUBS $1, R0, R0
	BNE loop
	RET
