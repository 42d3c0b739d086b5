// Macros shared by the NEON kernels (*_arm64.s).
//
// The Go arm64 assembler has VFMLA but no mnemonic for the vector forms of FADD, FMAX and
// FMIN, so they are encoded by hand (Arm ARM, "Advanced SIMD three same"; the .4S form,
// Q=1, sz=0). The arguments are register numbers, in the Go operand order: m, n, d
// computes Vd = op(Vn, Vm).

// FADD Vd.4S, Vn.4S, Vm.4S
#define FADD4(m, n, d) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))
// FMAX Vd.4S, Vn.4S, Vm.4S
#define FMAX4(m, n, d) WORD $(0x4E20F400 | ((m)<<16) | ((n)<<5) | (d))
// FMIN Vd.4S, Vn.4S, Vm.4S
#define FMIN4(m, n, d) WORD $(0x4EA0F400 | ((m)<<16) | ((n)<<5) | (d))

// FMA16 accumulates the 16 lanes of V0–V3 times the broadcast b into a0–a3: 4 FMLA.
#define FMA16(b, a0, a1, a2, a3) \
	VFMLA V0.S4, b.S4, a0.S4; \
	VFMLA V1.S4, b.S4, a1.S4; \
	VFMLA V2.S4, b.S4, a2.S4; \
	VFMLA V3.S4, b.S4, a3.S4

// LANES4 applies op (one of the above) with the same Vm to the four consecutive registers
// from number n into the four from number d.
#define LANES4(op, m, n, d) op(m, n, d); op(m, (n)+1, (d)+1); op(m, (n)+2, (d)+2); op(m, (n)+3, (d)+3)

// ADD16 adds the four vectors numbered b0..b3 to V0–V3: 4 FADD.
#define ADD16(b0, b1, b2, b3) \
	FADD4(b0, 0, 0); \
	FADD4(b1, 1, 1); \
	FADD4(b2, 2, 2); \
	FADD4(b3, 3, 3)

// TILE6x16 is one step of a 6×16 tile: with the 16 B values (or tap weights) in V0–V3 it
// broadcasts the six A (or input) elements at the LD1R.P operands l0..l5 into V4–V7 in
// turn and adds their products to the accumulators V8–V31 (row r in V(8+4r)–V(11+4r)):
// 6 LD1R and 24 FMLA.
#define TILE6x16(l0, l1, l2, l3, l4, l5) \
	VLD1R.P l0, [V4.S4]; \
	VLD1R.P l1, [V5.S4]; \
	FMA16(V4, V8, V9, V10, V11); \
	VLD1R.P l2, [V6.S4]; \
	FMA16(V5, V12, V13, V14, V15); \
	VLD1R.P l3, [V7.S4]; \
	FMA16(V6, V16, V17, V18, V19); \
	VLD1R.P l4, [V4.S4]; \
	FMA16(V7, V20, V21, V22, V23); \
	VLD1R.P l5, [V5.S4]; \
	FMA16(V4, V24, V25, V26, V27); \
	FMA16(V5, V28, V29, V30, V31)

// BTAP16 is one tap of a single-pixel convolution: it broadcasts the float at x into b,
// loads the tap's 16 weights at wp into w0–w3 (wp += ws) and adds their products to
// a0–a3: one LD1R, one 4-register LD1, 4 FMLA.
#define BTAP16(x, wp, ws, b, w0, w1, w2, w3, a0, a1, a2, a3) \
	VLD1R (x), [b.S4]; \
	VLD1.P (wp)(ws), [w0.S4, w1.S4, w2.S4, w3.S4]; \
	VFMLA w0.S4, b.S4, a0.S4; \
	VFMLA w1.S4, b.S4, a1.S4; \
	VFMLA w2.S4, b.S4, a2.S4; \
	VFMLA w3.S4, b.S4, a3.S4

// ZERO4 clears four vector registers.
#define ZERO4(a0, a1, a2, a3) \
	VEOR a0.B16, a0.B16, a0.B16; \
	VEOR a1.B16, a1.B16, a1.B16; \
	VEOR a2.B16, a2.B16, a2.B16; \
	VEOR a3.B16, a3.B16, a3.B16

// ZERO24 clears V8–V31, the accumulators of the 6×16 tiles.
#define ZERO24 \
	ZERO4(V8, V9, V10, V11); \
	ZERO4(V12, V13, V14, V15); \
	ZERO4(V16, V17, V18, V19); \
	ZERO4(V20, V21, V22, V23); \
	ZERO4(V24, V25, V26, V27); \
	ZERO4(V28, V29, V30, V31)

// STORE24 writes V8–V31 to the 96 floats at r (6 rows of 16, row after row), advancing r.
#define STORE24(r) \
	VST1.P [V8.S4, V9.S4, V10.S4, V11.S4], 64(r); \
	VST1.P [V12.S4, V13.S4, V14.S4, V15.S4], 64(r); \
	VST1.P [V16.S4, V17.S4, V18.S4, V19.S4], 64(r); \
	VST1.P [V20.S4, V21.S4, V22.S4, V23.S4], 64(r); \
	VST1.P [V24.S4, V25.S4, V26.S4, V27.S4], 64(r); \
	VST1.P [V28.S4, V29.S4, V30.S4, V31.S4], 64(r)
