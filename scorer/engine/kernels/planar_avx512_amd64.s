//go:build goexperiment.simd && amd64

#include "textflag.h"

// func avx512Conv12x16(offs *int32, n int, x unsafe.Pointer, s int, wt unsafe.Pointer, ws int, tile unsafe.Pointer)
//
// tile[p*16+c] = Σ_t x[offs[t] + p*s/4] · wt[t*ws/4 + c] for output pixels p = 0..11 (their
// first taps s bytes apart) and 16 channels c, over the n ≥ 1 taps whose offsets (in
// floats, from pixel 0's first tap) are offs[0..n-1], tap t's 16 weights at wt + t*ws
// bytes; tile is 192 floats, 64-byte aligned. Z16–Z27 accumulate, Z0 holds the tap's
// weights, and each input scalar is an embedded-broadcast operand of its FMA: per tap one
// weight load and 12 FMAs, twelve chains in flight (the archsimd planar6 keeps six, as the
// compiler hoists the broadcasts into registers). R11, R12, R13, R8 address pixels 0, 3,
// 6, 9; DI and DI*2 the next two of each.
TEXT ·avx512Conv12x16(SB), NOSPLIT, $0-56
	MOVQ offs+0(FP), AX
	MOVQ n+8(FP), CX
	MOVQ x+16(FP), SI
	MOVQ s+24(FP), DI
	MOVQ wt+32(FP), BX
	MOVQ ws+40(FP), DX
	MOVQ tile+48(FP), R9
	LEAQ (DI)(DI*2), R10
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
loop:
	MOVLQSX (AX), R11
	LEAQ (SI)(R11*4), R11
	LEAQ (R11)(R10*1), R12
	LEAQ (R12)(R10*1), R13
	LEAQ (R13)(R10*1), R8
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
	ADDQ $4, AX
	ADDQ DX, BX
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
	VZEROUPPER
	RET

// func avx512Conv12x16BR(offs *int32, n int, x unsafe.Pointer, s int, wt unsafe.Pointer, ws int, c unsafe.Pointer, ldc int, bias unsafe.Pointer, relu bool)
//
// avx512Conv12x16 with the bias/ReLU epilogue fused, as avx512Gemm12x16BR: the 16 floats at
// bias added (Z0, free after the loop), max(·, 0) if relu, the 12 pixels stored straight to
// the output at c, ldc bytes apart. Same register blocking and FMAs per load.
TEXT ·avx512Conv12x16BR(SB), NOSPLIT, $0-73
	MOVQ offs+0(FP), AX
	MOVQ n+8(FP), CX
	MOVQ x+16(FP), SI
	MOVQ s+24(FP), DI
	MOVQ wt+32(FP), BX
	MOVQ ws+40(FP), DX
	MOVQ c+48(FP), R9
	MOVQ ldc+56(FP), R14
	LEAQ (DI)(DI*2), R10
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
c12brloop:
	MOVLQSX (AX), R11
	LEAQ (SI)(R11*4), R11
	LEAQ (R11)(R10*1), R12
	LEAQ (R12)(R10*1), R13
	LEAQ (R13)(R10*1), R8
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
	ADDQ $4, AX
	ADDQ DX, BX
	DECQ CX
	JNZ c12brloop
	MOVQ bias+64(FP), AX
	VMOVUPS (AX), Z0
	VADDPS Z0, Z16, Z16
	VADDPS Z0, Z17, Z17
	VADDPS Z0, Z18, Z18
	VADDPS Z0, Z19, Z19
	VADDPS Z0, Z20, Z20
	VADDPS Z0, Z21, Z21
	VADDPS Z0, Z22, Z22
	VADDPS Z0, Z23, Z23
	VADDPS Z0, Z24, Z24
	VADDPS Z0, Z25, Z25
	VADDPS Z0, Z26, Z26
	VADDPS Z0, Z27, Z27
	MOVBQZX relu+72(FP), R13
	TESTQ R13, R13
	JZ c12brstore
	VPXORD Z1, Z1, Z1
	VMAXPS Z1, Z16, Z16
	VMAXPS Z1, Z17, Z17
	VMAXPS Z1, Z18, Z18
	VMAXPS Z1, Z19, Z19
	VMAXPS Z1, Z20, Z20
	VMAXPS Z1, Z21, Z21
	VMAXPS Z1, Z22, Z22
	VMAXPS Z1, Z23, Z23
	VMAXPS Z1, Z24, Z24
	VMAXPS Z1, Z25, Z25
	VMAXPS Z1, Z26, Z26
	VMAXPS Z1, Z27, Z27
c12brstore:
	VMOVUPS Z16, (R9)
	ADDQ R14, R9
	VMOVUPS Z17, (R9)
	ADDQ R14, R9
	VMOVUPS Z18, (R9)
	ADDQ R14, R9
	VMOVUPS Z19, (R9)
	ADDQ R14, R9
	VMOVUPS Z20, (R9)
	ADDQ R14, R9
	VMOVUPS Z21, (R9)
	ADDQ R14, R9
	VMOVUPS Z22, (R9)
	ADDQ R14, R9
	VMOVUPS Z23, (R9)
	ADDQ R14, R9
	VMOVUPS Z24, (R9)
	ADDQ R14, R9
	VMOVUPS Z25, (R9)
	ADDQ R14, R9
	VMOVUPS Z26, (R9)
	ADDQ R14, R9
	VMOVUPS Z27, (R9)
	VZEROUPPER
	RET
