/* Board port: Arm MPS2 AN386 (Cortex-M4F) as QEMU emulates it (`qemu-system-arm -M mps2-an386`).
 *
 * Startup and vector table, CMSDK APB UART0 (0x40004000), CMSDK APB TIMER0 (0x40000000, 25 MHz)
 * as the microsecond timer, the FPGA I/O LED register as the timestamp marker, fault handlers,
 * and the few C-library hooks a -nostartfiles image needs. Only this file and mps2_an386.ld know
 * the machine; see board.h for what a port to a real board provides.
 */
#include <stddef.h>
#include <stdint.h>
#include <errno.h>

#include "board.h"

#define SYSCLK_HZ 25000000u
#define TICKS_PER_US (SYSCLK_HZ / 1000000u)

#define REG32(addr) (*(volatile uint32_t *)(addr))

/* CMSDK APB UART0 */
#define UART0_BASE 0x40004000u
#define UART_DATA REG32(UART0_BASE + 0x000)
#define UART_STATE REG32(UART0_BASE + 0x004)
#define UART_CTRL REG32(UART0_BASE + 0x008)
#define UART_BAUDDIV REG32(UART0_BASE + 0x010)
#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u
#define UART_INT REG32(UART0_BASE + 0x00C)
#define UART_CTRL_TXEN 0x1u
#define UART_CTRL_RXEN 0x2u
#define UART_CTRL_RXINTEN 0x8u
#define UART_INT_RX 0x2u
#define UART0_RX_IRQN 0

/* CMSDK APB TIMER0: a 32-bit down counter at SYSCLK, IRQ 8 on underflow */
#define TIMER0_BASE 0x40000000u
#define TIMER_CTRL REG32(TIMER0_BASE + 0x000)
#define TIMER_VALUE REG32(TIMER0_BASE + 0x004)
#define TIMER_RELOAD REG32(TIMER0_BASE + 0x008)
#define TIMER_INT REG32(TIMER0_BASE + 0x00C)
#define TIMER_CTRL_EN 0x1u
#define TIMER_CTRL_IRQEN 0x8u
#define TIMER0_IRQN 8

/* FPGA I/O: LED0 bit 0 stands in for the timestamp GPIO */
#define FPGAIO_LED REG32(0x40028000u)

/* System control block / NVIC */
#define SCB_CPACR REG32(0xE000ED88u)
#define SCB_VTOR REG32(0xE000ED08u)
#define NVIC_ISER0 REG32(0xE000E100u)

const char board_machine[] = "qemu mps2-an386";
const char board_cpu[] = "Arm Cortex-M4F (cortex-m4, fpv4-sp-d16)";
const char board_timer[] = "CMSDK TIMER0 at 25 MHz";
const int board_virtual_clock = 1; /* QEMU -icount: instructions at a nominal rate */

/* Timer ticks folded in by earlier restarts and underflows. */
static volatile uint64_t g_ticks;

void TIMER0_Handler(void) {
  TIMER_INT = 1u; /* clear */
  g_ticks += (uint64_t)0xFFFFFFFFu + 1u;
}

/* Ticks counted since the last restart (an underflow not yet serviced is counted here). */
static uint64_t elapsed_ticks(void) {
  uint32_t value = TIMER_VALUE;
  uint64_t extra = 0;
  if (TIMER_INT & 1u) { /* wrapped after the handler could run: count it now, re-read */
    value = TIMER_VALUE;
    extra = (uint64_t)0xFFFFFFFFu + 1u;
  }
  return extra + (uint64_t)(0xFFFFFFFFu - value);
}

void board_timer_restart(void) {
  __asm volatile("cpsid i" ::: "memory");
  g_ticks += elapsed_ticks();
  TIMER_INT = 1u;
  TIMER_VALUE = 0xFFFFFFFFu; /* restarting re-anchors the tick phase */
  __asm volatile("cpsie i" ::: "memory");
}

uint32_t board_timestamp_us(void) {
  board_timer_restart();
  /* start every interval on a whole microsecond (dropping < 1 us), so that the difference of two
   * stamps is floor(ticks / 25) of the interval itself, not of where it began */
  __asm volatile("cpsid i" ::: "memory");
  g_ticks -= g_ticks % TICKS_PER_US;
  __asm volatile("cpsie i" ::: "memory");
  return (uint32_t)(g_ticks / TICKS_PER_US);
}

void board_delay_us(uint32_t us) {
  uint64_t start = g_ticks + elapsed_ticks();
  while (g_ticks + elapsed_ticks() - start < (uint64_t)us * TICKS_PER_US) {
  }
}

void board_marker(int level) { FPGAIO_LED = level ? 1u : 0u; }

void board_init(void) {
  TIMER_CTRL = 0;
  TIMER_RELOAD = 0xFFFFFFFFu;
  TIMER_VALUE = 0xFFFFFFFFu;
  TIMER_INT = 1u;
  NVIC_ISER0 = 1u << TIMER0_IRQN;
  TIMER_CTRL = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
  board_marker(1);
}

void board_uart_init(uint32_t baud) {
  UART_CTRL = 0;
  UART_BAUDDIV = SYSCLK_HZ / baud;
  UART_INT = UART_INT_RX;
  NVIC_ISER0 = 1u << UART0_RX_IRQN;
  UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXINTEN;
}

/* The RX interrupt only wakes the core from WFI in board_getc. */
void UART0_RX_Handler(void) { UART_INT = UART_INT_RX; }

void board_putc(char c) {
  while (UART_STATE & UART_STATE_TXFULL) {
  }
  UART_DATA = (uint8_t)c;
}

char board_getc(void) {
  /* Sleep until a byte arrives instead of spinning: a pending interrupt wakes WFI even with
   * interrupts masked, so a byte arriving between the check and the WFI is not missed. Under
   * QEMU the idle core costs the host nothing and the emulated clock moves with real time while
   * asleep (no inference is ever timed across a wait for the host). */
  for (;;) {
    __asm volatile("cpsid i" ::: "memory");
    if (UART_STATE & UART_STATE_RXFULL) break;
    __asm volatile("wfi");
    __asm volatile("cpsie i" ::: "memory");
  }
  __asm volatile("cpsie i" ::: "memory");
  return (char)UART_DATA;
}

static void raw_puts(const char *s) {
  while (*s) board_putc(*s++);
}

void board_fault(const char *reason, uint32_t pc) {
  static const char hex[] = "0123456789abcdef";
  char pcs[11] = "0x00000000";
  for (int i = 0; i < 8; i++) pcs[9 - i] = hex[(pc >> (4 * i)) & 0xFu];
  __asm volatile("cpsid i" ::: "memory");
  raw_puts("e-[board fault: ");
  raw_puts(reason);
  raw_puts(" at pc ");
  raw_puts(pcs);
  raw_puts("]\r\n");
  for (;;) {
  }
}

/* ---- startup ---------------------------------------------------------------------------- */
extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];
extern void __libc_init_array(void);
extern int main(void);

void Reset_Handler(void) {
  uint32_t *src = __data_load, *dst = __data_start;
  while (dst < __data_end) *dst++ = *src++;
  for (dst = __bss_start; dst < __bss_end;) *dst++ = 0;
  SCB_CPACR |= 0xFu << 20; /* CP10, CP11: the FPU */
  __asm volatile("dsb\n isb" ::: "memory");
  __libc_init_array();
  main();
  board_fault("main returned", 0);
}

void fault_c(uint32_t *frame, uint32_t kind) {
  static const char *const names[] = {"HardFault", "MemManage", "BusFault", "UsageFault", "NMI", "unexpected IRQ"};
  board_fault(names[kind < 6 ? kind : 5], frame[6]);
}

#define FAULT_ENTRY(name, kind)                                                  \
  __attribute__((naked)) void name(void) {                                       \
    __asm volatile("tst lr, #4\n ite eq\n mrseq r0, msp\n mrsne r0, psp\n"       \
                   "movs r1, #" #kind "\n b fault_c\n");                          \
  }
FAULT_ENTRY(HardFault_Handler, 0)
FAULT_ENTRY(MemManage_Handler, 1)
FAULT_ENTRY(BusFault_Handler, 2)
FAULT_ENTRY(UsageFault_Handler, 3)
FAULT_ENTRY(NMI_Handler, 4)
FAULT_ENTRY(Default_Handler, 5)

typedef void (*vector_t)(void);
__attribute__((section(".isr_vector"), used)) const vector_t g_vectors[16 + 32] = {
    (vector_t)__stack_top, Reset_Handler, NMI_Handler, HardFault_Handler, MemManage_Handler,
    BusFault_Handler, UsageFault_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0,
    Default_Handler, Default_Handler,
    /* IRQ 0..31 */
    UART0_RX_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, TIMER0_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler};

/* ---- what -nostartfiles leaves out, and the C library's heap ----------------------------- */
void *__dso_handle = 0;
void _init(void) {}
void _fini(void) {}

extern uint8_t __heap_start[], __heap_end[];
void *_sbrk(ptrdiff_t incr) {
  static uint8_t *brk = __heap_start;
  if (brk + incr > __heap_end || brk + incr < __heap_start) {
    errno = ENOMEM;
    return (void *)-1;
  }
  uint8_t *old = brk;
  brk += incr;
  return old;
}
