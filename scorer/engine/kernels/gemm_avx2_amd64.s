//go:build goexperiment.simd && amd64

#include "textflag.h"

// func avx2Gemm6x16(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, bs int, tile *[96]float32)
//
// tile = A[0:6, 0:k] · B[0:k, 0:16] for 6 rows of A at a (lda bytes apart) and 16 columns
// of a packed B panel at b (rows bs bytes apart); k ≥ 1. Y0–Y11 accumulate (row r in
// Y(2r), Y(2r+1)), Y12/Y13 hold the B row, Y14 the broadcast A element: per k step 2 B
// loads, 6 broadcasts and 12 FMAs (VFMADD231PS, the accumulator as destination), no
// spills. Y15 is left alone (the Go ABI keeps zero in X15).
TEXT ·avx2Gemm6x16(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), DI
	MOVQ b+24(FP), BX
	MOVQ bs+32(FP), DX
	MOVQ tile+40(FP), R9
	LEAQ (SI)(DI*2), R8
	ADDQ DI, R8 // R8 = row 3
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
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	VBROADCASTSS (SI), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS (SI)(DI*1), Y14
	VFMADD231PS Y12, Y14, Y2
	VFMADD231PS Y13, Y14, Y3
	VBROADCASTSS (SI)(DI*2), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS (R8), Y14
	VFMADD231PS Y12, Y14, Y6
	VFMADD231PS Y13, Y14, Y7
	VBROADCASTSS (R8)(DI*1), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS (R8)(DI*2), Y14
	VFMADD231PS Y12, Y14, Y10
	VFMADD231PS Y13, Y14, Y11
	ADDQ $4, SI
	ADDQ $4, R8
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
