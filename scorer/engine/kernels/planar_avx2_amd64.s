//go:build goexperiment.simd && amd64

#include "textflag.h"

// func avx2Conv6x16(offs *int32, n int, x unsafe.Pointer, s int, wt unsafe.Pointer, ws int, tile *[96]float32)
//
// tile[p*16+c] = Σ_t x[offs[t] + p*s/4] · wt[t*ws/4 + c] for output pixels p = 0..5 (their
// first taps s bytes apart) and 16 channels c, over the n ≥ 1 taps whose offsets (in
// floats, from pixel 0's first tap) are offs[0..n-1], tap t's 16 weights at wt + t*ws
// bytes. Registers as in avx2Gemm6x16: Y0–Y11 accumulate, Y12/Y13 the tap's weights, Y14
// the broadcast input; Y15 untouched.
TEXT ·avx2Conv6x16(SB), NOSPLIT, $0-56
	MOVQ offs+0(FP), AX
	MOVQ n+8(FP), CX
	MOVQ x+16(FP), SI
	MOVQ s+24(FP), DI
	MOVQ wt+32(FP), BX
	MOVQ ws+40(FP), DX
	MOVQ tile+48(FP), R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
loop:
	MOVLQSX (AX), R10
	LEAQ (SI)(R10*4), R11
	LEAQ (R11)(DI*2), R12
	ADDQ DI, R12
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	VBROADCASTSS (R11), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS (R11)(DI*1), Y14
	VFMADD231PS Y12, Y14, Y2
	VFMADD231PS Y13, Y14, Y3
	VBROADCASTSS (R11)(DI*2), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS (R12), Y14
	VFMADD231PS Y12, Y14, Y6
	VFMADD231PS Y13, Y14, Y7
	VBROADCASTSS (R12)(DI*1), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS (R12)(DI*2), Y14
	VFMADD231PS Y12, Y14, Y10
	VFMADD231PS Y13, Y14, Y11
	ADDQ $4, AX
	ADDQ DX, BX
	DECQ CX
	JNZ loop
	VMOVUPS Y0, 0(R9)
	VMOVUPS Y1, 32(R9)
	VMOVUPS Y2, 64(R9)
	VMOVUPS Y3, 96(R9)
	VMOVUPS Y4, 128(R9)
	VMOVUPS Y5, 160(R9)
	VMOVUPS Y6, 192(R9)
	VMOVUPS Y7, 224(R9)
	VMOVUPS Y8, 256(R9)
	VMOVUPS Y9, 288(R9)
	VMOVUPS Y10, 320(R9)
	VMOVUPS Y11, 352(R9)
	VZEROUPPER
	RET

// func avx2Conv1x16(offs *int32, n int, x unsafe.Pointer, wt unsafe.Pointer, ws int, out *[16]float32)
//
// out[c] = Σ_t x[offs[t]] · wt[t*ws/4 + c] for 16 channels c over n ≥ 1 taps: one output
// pixel of avx2Conv6x16. Four taps per iteration into four pairs of accumulators
// (Y0/Y1 … Y6/Y7), so that eight FMA chains are in flight, summed at the end.
TEXT ·avx2Conv1x16(SB), NOSPLIT, $0-48
	MOVQ offs+0(FP), AX
	MOVQ n+8(FP), CX
	MOVQ x+16(FP), SI
	MOVQ wt+24(FP), BX
	MOVQ ws+32(FP), DX
	MOVQ out+40(FP), R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ CX, $4
	JLT tail
loop4:
	MOVLQSX 0(AX), R10
	VBROADCASTSS (SI)(R10*4), Y8
	VFMADD231PS (BX), Y8, Y0
	VFMADD231PS 32(BX), Y8, Y1
	ADDQ DX, BX
	MOVLQSX 4(AX), R10
	VBROADCASTSS (SI)(R10*4), Y9
	VFMADD231PS (BX), Y9, Y2
	VFMADD231PS 32(BX), Y9, Y3
	ADDQ DX, BX
	MOVLQSX 8(AX), R10
	VBROADCASTSS (SI)(R10*4), Y10
	VFMADD231PS (BX), Y10, Y4
	VFMADD231PS 32(BX), Y10, Y5
	ADDQ DX, BX
	MOVLQSX 12(AX), R10
	VBROADCASTSS (SI)(R10*4), Y11
	VFMADD231PS (BX), Y11, Y6
	VFMADD231PS 32(BX), Y11, Y7
	ADDQ DX, BX
	ADDQ $16, AX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE loop4
tail:
	TESTQ CX, CX
	JZ done
tail1:
	MOVLQSX (AX), R10
	VBROADCASTSS (SI)(R10*4), Y8
	VFMADD231PS (BX), Y8, Y0
	VFMADD231PS 32(BX), Y8, Y1
	ADDQ DX, BX
	ADDQ $4, AX
	DECQ CX
	JNZ tail1
done:
	VADDPS Y2, Y0, Y0
	VADDPS Y6, Y4, Y4
	VADDPS Y4, Y0, Y0
	VADDPS Y3, Y1, Y1
	VADDPS Y7, Y5, Y5
	VADDPS Y5, Y1, Y1
	VMOVUPS Y0, (R9)
	VMOVUPS Y1, 32(R9)
	VZEROUPPER
	RET
