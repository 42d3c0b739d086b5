//go:build goexperiment.simd && amd64

#include "textflag.h"

// func avx512Gemm8x32(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, tile unsafe.Pointer)
//
// tile = A[0:8, 0:k] · B[0:k, 0:32] for 8 rows of A at a (lda bytes apart) and a packed
// 32-column B panel at b (128 bytes per row); k ≥ 1; tile is 256 floats, row after row,
// and should be 64-byte aligned. Z16–Z31 accumulate (row r in Z(16+2r), Z(17+2r)), Z0/Z1
// hold the B row, Z2–Z9 the broadcast A elements: per k step 2 B loads, 8 broadcasts and
// 16 FMAs, nothing on the stack. (The compiler allocates only Z0–Z14 and spills a 3×32
// tile written with archsimd; those spills run at the speed of whatever alignment the
// stack pointer happens to have.)
TEXT ·avx512Gemm8x32(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), DI
	MOVQ b+24(FP), BX
	MOVQ tile+32(FP), R9
	LEAQ (DI)(DI*2), R10
	LEAQ (SI)(DI*4), R8
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
loop:
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	VBROADCASTSS (SI), Z2
	VBROADCASTSS (SI)(DI*1), Z3
	VBROADCASTSS (SI)(DI*2), Z4
	VBROADCASTSS (SI)(R10*1), Z5
	VBROADCASTSS (R8), Z6
	VBROADCASTSS (R8)(DI*1), Z7
	VBROADCASTSS (R8)(DI*2), Z8
	VBROADCASTSS (R8)(R10*1), Z9
	VFMADD231PS Z0, Z2, Z16
	VFMADD231PS Z1, Z2, Z17
	VFMADD231PS Z0, Z3, Z18
	VFMADD231PS Z1, Z3, Z19
	VFMADD231PS Z0, Z4, Z20
	VFMADD231PS Z1, Z4, Z21
	VFMADD231PS Z0, Z5, Z22
	VFMADD231PS Z1, Z5, Z23
	VFMADD231PS Z0, Z6, Z24
	VFMADD231PS Z1, Z6, Z25
	VFMADD231PS Z0, Z7, Z26
	VFMADD231PS Z1, Z7, Z27
	VFMADD231PS Z0, Z8, Z28
	VFMADD231PS Z1, Z8, Z29
	VFMADD231PS Z0, Z9, Z30
	VFMADD231PS Z1, Z9, Z31
	ADDQ $4, SI
	ADDQ $4, R8
	ADDQ $128, BX
	DECQ CX
	JNZ loop
	VMOVUPS Z16, 0(R9)
	VMOVUPS Z17, 64(R9)
	VMOVUPS Z18, 128(R9)
	VMOVUPS Z19, 192(R9)
	VMOVUPS Z20, 256(R9)
	VMOVUPS Z21, 320(R9)
	VMOVUPS Z22, 384(R9)
	VMOVUPS Z23, 448(R9)
	VMOVUPS Z24, 512(R9)
	VMOVUPS Z25, 576(R9)
	VMOVUPS Z26, 640(R9)
	VMOVUPS Z27, 704(R9)
	VMOVUPS Z28, 768(R9)
	VMOVUPS Z29, 832(R9)
	VMOVUPS Z30, 896(R9)
	VMOVUPS Z31, 960(R9)
	VZEROUPPER
	RET

// func avx512Gemm12x16(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, tile unsafe.Pointer)
//
// tile = A[0:12, 0:k] · B[0:k, 0:16] for 12 rows of A at a (lda bytes apart) and a packed
// 16-column B panel at b (64 bytes per row); k ≥ 1; tile is 192 floats, row after row,
// 64-byte aligned. The GEMM form of avx512Conv12x16, for 1×1 convolutions with at most 16
// output channels (UltraFace's heads and RFB branches): Z16–Z27 accumulate, Z0 holds the B
// row, each A element is an embedded-broadcast operand of its FMA: per k step one B load
// and 12 FMAs, twelve chains in flight (kern4x16 keeps four). R11, R12, R13, R8 address
// rows 0, 3, 6, 9; DI and DI*2 the next two of each.
TEXT ·avx512Gemm12x16(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R11
	MOVQ lda+16(FP), DI
	MOVQ b+24(FP), BX
	MOVQ tile+32(FP), R9
	LEAQ (DI)(DI*2), R10
	LEAQ (R11)(R10*1), R12
	LEAQ (R12)(R10*1), R13
	LEAQ (R13)(R10*1), R8
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
g12loop:
	VMOVUPS (BX), Z0
	VFMADD231PS.BCST (R11), Z0, Z16
	VFMADD231PS.BCST (R11)(DI*1), Z0, Z17
	VFMADD231PS.BCST (R11)(DI*2), Z0, Z18
	VFMADD231PS.BCST (R12), Z0, Z19
	VFMADD231PS.BCST (R12)(DI*1), Z0, Z20
	VFMADD231PS.BCST (R12)(DI*2), Z0, Z21
	VFMADD231PS.BCST (R13), Z0, Z22
	VFMADD231PS.BCST (R13)(DI*1), Z0, Z23
	VFMADD231PS.BCST (R13)(DI*2), Z0, Z24
	VFMADD231PS.BCST (R8), Z0, Z25
	VFMADD231PS.BCST (R8)(DI*1), Z0, Z26
	VFMADD231PS.BCST (R8)(DI*2), Z0, Z27
	ADDQ $4, R11
	ADDQ $4, R12
	ADDQ $4, R13
	ADDQ $4, R8
	ADDQ $64, BX
	DECQ CX
	JNZ g12loop
	VMOVUPS Z16, 0(R9)
	VMOVUPS Z17, 64(R9)
	VMOVUPS Z18, 128(R9)
	VMOVUPS Z19, 192(R9)
	VMOVUPS Z20, 256(R9)
	VMOVUPS Z21, 320(R9)
	VMOVUPS Z22, 384(R9)
	VMOVUPS Z23, 448(R9)
	VMOVUPS Z24, 512(R9)
	VMOVUPS Z25, 576(R9)
	VMOVUPS Z26, 640(R9)
	VMOVUPS Z27, 704(R9)
	VZEROUPPER
	RET
