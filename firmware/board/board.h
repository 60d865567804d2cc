/* The board layer: everything the DUT firmware needs from a microcontroller.
 *
 * One implementation per board (board/<machine>.c + its linker script). Porting to a real board
 * means writing these few functions for its UART, a free-running microsecond timer and one GPIO
 * (the energy-mode timestamp pin), and a linker script for its flash and RAM.
 */
#ifndef TINYPERF_BOARD_H_
#define TINYPERF_BOARD_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clocks, timer and marker pin; called once before anything else. */
void board_init(void);
/* UART at `baud`, 8N1, no flow control. */
void board_uart_init(uint32_t baud);
void board_putc(char c);
/* Blocks until a byte arrives. */
char board_getc(void);
/* Microseconds since boot, 32-bit wrapping (the m-lap-us counter). Every call restarts the
 * hardware counter after folding its count into the total, so an interval between two calls
 * counts whole timer periods from the first call, independent of the phase at which the host's
 * command arrived (the fraction of a microsecond at a stamp is dropped for the same reason). */
uint32_t board_timestamp_us(void);
/* Fold the timer into the total and restart it (call right before the timed inferences). */
void board_timer_restart(void);
/* The timestamp GPIO (active low pulse in energy mode). */
void board_marker(int level);
/* Busy-wait at least `us` microseconds on the timer. */
void board_delay_us(uint32_t us);
/* A fault handler calls this with a short reason; it never returns (the board is stuck, as a
 * real one would be until reset). */
void board_fault(const char *reason, uint32_t pc) __attribute__((noreturn));

/* What this board is, for the build record: machine, CPU, timer. */
extern const char board_machine[];
extern const char board_cpu[];
extern const char board_timer[];
/* 1 when the timer is not real time (an emulator counting instructions): the firmware then
 * answers the serial runner's `clock` with m-clock-[virtual]. A real board says 0. */
extern const int board_virtual_clock;

#ifdef __cplusplus
}
#endif

#endif /* TINYPERF_BOARD_H_ */
