/* The submitter side of the MLPerf Tiny (EEMBC) DUT API for tinyperf's firmware.
 *
 * The official api/internally_implemented.cpp (compiled from the pinned mlcommons/tiny archive,
 * never copied here) parses the host's commands and calls these th_* functions, exactly as on a
 * real submission. What is specific to a workload and a model comes from tp_config.h, which the
 * build driver writes from the workload catalog and the .tflite: the ops to register, the
 * sample encoding, whether results are a class vector or the anomaly detector's window MSE.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/internally_implemented.h"
#include "api/submitter_implemented.h"
#include "board.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tp_config.h"

extern "C" const uint8_t tp_model[];
extern "C" uint8_t __arena_start[], __arena_end[];

namespace {

tflite::MicroInterpreter *g_interpreter = nullptr;
TfLiteTensor *g_input = nullptr;
TfLiteTensor *g_output = nullptr;
const char *g_init_error = nullptr;
char g_last_log[160];

uint8_t g_sample[TP_UPLOAD_BYTES];      // the uploaded bytes (ee_get_buffer copies them here)
#if TP_RESULT_MSE
float g_real_input[TP_INPUT_ELEMENTS];  // the sample as real values (the window MSE needs them)
#endif
uint8_t g_tensor_input[TP_INPUT_BYTES]; // quantized once per load; copied in before every Invoke
bool g_invoke_failed = false;
#ifdef TP_FAULT_AT_INFER
unsigned g_infer_count = 0;
#endif

float sample_value(size_t i) {
#if TP_SAMPLE_DTYPE == TP_DTYPE_INT8
  return ((float)(int8_t)g_sample[i] - TP_SAMPLE_OFFSET) * TP_SAMPLE_SCALE;
#elif TP_SAMPLE_DTYPE == TP_DTYPE_UINT8
  return ((float)g_sample[i] - TP_SAMPLE_OFFSET) * TP_SAMPLE_SCALE;
#else
  float v;
  memcpy(&v, &g_sample[4 * i], 4);
  return (v - TP_SAMPLE_OFFSET) * TP_SAMPLE_SCALE;
#endif
}

/* real -> the input tensor's type, rounding half to even as the host runner does */
void quantize_input() {
  const float scale = g_input->params.scale;
  const int zero = g_input->params.zero_point;
  for (size_t i = 0; i < TP_INPUT_ELEMENTS; i++) {
    const float real = sample_value(i);
#if TP_RESULT_MSE
    g_real_input[i] = real;
#endif
    switch (g_input->type) {
      case kTfLiteInt8: {
        double q = nearbyint((double)real / (double)scale) + zero;
        g_tensor_input[i] = (uint8_t)(int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
        break;
      }
      case kTfLiteUInt8: {
        double q = nearbyint((double)real / (double)scale) + zero;
        g_tensor_input[i] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
        break;
      }
      default:
        memcpy(&g_tensor_input[4 * i], &real, 4);
    }
  }
}

float output_value(size_t i) {
  switch (g_output->type) {
    case kTfLiteInt8:
      return ((float)g_output->data.int8[i] - (float)g_output->params.zero_point) * g_output->params.scale;
    case kTfLiteUInt8:
      return ((float)g_output->data.uint8[i] - (float)g_output->params.zero_point) * g_output->params.scale;
    default:
      return g_output->data.f[i];
  }
}

}  // namespace

extern "C" void DebugLog(const char *format, va_list args) {
  vsnprintf(g_last_log, sizeof g_last_log, format, args);
}

extern "C" int DebugVsnprintf(char *buffer, size_t buf_size, const char *format, va_list vlist) {
  return vsnprintf(buffer, buf_size, format, vlist);
}

void th_load_tensor() {
  size_t bytes = ee_get_buffer(g_sample, TP_UPLOAD_BYTES);
  if (bytes != TP_UPLOAD_BYTES) {
    th_printf("Input db has %d elemented, expected %d\n", (int)(bytes / TP_SAMPLE_SIZE),
              (int)(TP_UPLOAD_BYTES / TP_SAMPLE_SIZE));
    return;
  }
  if (g_input == nullptr) return;
  quantize_input();
}

void th_infer() {
#ifdef TP_FAULT_AT_INFER
  if (++g_infer_count == TP_FAULT_AT_INFER) __builtin_trap(); /* a deliberately faulting build */
#endif
  if (g_interpreter == nullptr) return;
  // TFLM reuses the input tensor's arena bytes during Invoke: reload it every time.
  memcpy(g_input->data.raw, g_tensor_input, TP_INPUT_BYTES);
  if (g_interpreter->Invoke() != kTfLiteOk) g_invoke_failed = true;
}

void th_results() {
  if (g_interpreter == nullptr) {
    th_printf("e-[model not initialized: %s]\r\n", g_init_error ? g_init_error : "unknown");
    return;
  }
  if (g_invoke_failed) {
    th_printf("e-[Invoke failed: %s]\r\n", g_last_log);
    g_invoke_failed = false;
  }
#if TP_RESULT_MSE
  /* the anomaly detector reports the window's mean squared reconstruction error */
  double sum = 0.0;
  for (size_t i = 0; i < TP_OUTPUT_ELEMENTS; i++) {
    double d = (double)output_value(i) - (double)g_real_input[i];
    sum += d * d;
  }
  th_printf("m-results-[%f]\r\n", sum / TP_OUTPUT_ELEMENTS);
#else
  th_printf("m-results-[");
  for (size_t i = 0; i < TP_OUTPUT_ELEMENTS; i++) {
    th_printf(i + 1 < TP_OUTPUT_ELEMENTS ? "%f," : "%f", (double)output_value(i));
  }
  th_printf("]\r\n");
#endif
}

void th_final_initialize(void) {
  static tflite::MicroMutableOpResolver<TP_OP_COUNT> resolver;
  TP_ADD_OPS(resolver);
  const tflite::Model *model = tflite::GetModel(tp_model);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    g_init_error = "model schema version not supported";
    return;
  }
  static tflite::MicroInterpreter interpreter(model, resolver, __arena_start,
                                              (size_t)(__arena_end - __arena_start));
  if (interpreter.AllocateTensors() != kTfLiteOk) {
    g_init_error = g_last_log[0] ? g_last_log : "AllocateTensors failed";
    th_printf("e-[AllocateTensors failed: %s]\r\n", g_init_error);
    return;
  }
  g_input = interpreter.input(0);
  g_output = interpreter.output(0);
  if (g_input->bytes != TP_INPUT_BYTES || g_output->bytes / TP_OUTPUT_ELEMENT_BYTES != TP_OUTPUT_ELEMENTS) {
    g_init_error = "model input/output size differs from the build's";
    th_printf("e-[%s]\r\n", g_init_error);
    g_input = nullptr;
    return;
  }
  g_interpreter = &interpreter;
}

void th_pre() { board_timer_restart(); }
void th_post() {}

/* The build record, answered to `tinyperf-info%` (a real board's firmware answers
 * e-[Unknown command...] to it): how this image was made and what it uses. */
static void print_info() {
  extern uint8_t __flash_start[], __flash_end[], __data_start[], __bss_end[], __heap_start[], __heap_end[];
  extern uint8_t __stack_bottom[], __stack_top[];
#define X(key, value) th_printf("m-info-%s-[%s]\r\n", key, value);
  TP_INFO_LIST
#undef X
  th_printf("m-info-machine-[%s]\r\n", board_machine);
  th_printf("m-info-cpu-[%s]\r\n", board_cpu);
  th_printf("m-info-timer-[%s]\r\n", board_timer);
  th_printf("m-info-flash-bytes-[%u]\r\n", (unsigned)(__flash_end - __flash_start));
  th_printf("m-info-static-ram-bytes-[%u]\r\n", (unsigned)(__bss_end - __data_start));
  th_printf("m-info-heap-bytes-[%u]\r\n", (unsigned)(__heap_end - __heap_start));
  th_printf("m-info-stack-bytes-[%u]\r\n", (unsigned)(__stack_top - __stack_bottom));
  th_printf("m-info-arena-bytes-[%u]\r\n", (unsigned)(__arena_end - __arena_start));
  if (g_interpreter != nullptr) {
    th_printf("m-info-arena-used-bytes-[%u]\r\n", (unsigned)g_interpreter->arena_used_bytes());
  } else {
    th_printf("e-[model not initialized: %s]\r\n", g_init_error ? g_init_error : "unknown");
  }
}

void th_command_ready(char volatile *p_command) {
  if (strcmp((const char *)p_command, "tinyperf-info") == 0) {
    print_info();
    th_printf(EE_MSG_READY);
    return;
  }
  if (board_virtual_clock && strcmp((const char *)p_command, "clock") == 0) {
    /* the serial runner's question: is this timer real time? Under QEMU -icount it counts
     * instructions at a nominal rate, so the host's clock cannot check it */
    th_printf("m-clock-[virtual]\r\n");
    th_printf(EE_MSG_READY);
    return;
  }
  ee_serial_command_parser_callback((char *)p_command);
}

// th_libc implementations.
int th_strncmp(const char *str1, const char *str2, size_t n) { return strncmp(str1, str2, n); }
char *th_strncpy(char *dest, const char *src, size_t n) { return strncpy(dest, src, n); }
size_t th_strnlen(const char *str, size_t maxlen) {
  size_t n = 0;
  while (n < maxlen && str[n]) n++;
  return n;
}
char *th_strcat(char *dest, const char *src) { return strcat(dest, src); }
char *th_strtok(char *str1, const char *sep) { return strtok(str1, sep); }
int th_atoi(const char *str) { return atoi(str); }
void *th_memset(void *b, int c, size_t len) { return memset(b, c, len); }
void *th_memcpy(void *dst, const void *src, size_t n) { return memcpy(dst, src, n); }

int th_vprintf(const char *format, va_list ap) {
  static char line[256];
  int n = vsnprintf(line, sizeof line, format, ap);
  for (int i = 0; i < n && i < (int)sizeof line - 1; i++) board_putc(line[i]);
  return n;
}

void th_printf(const char *p_fmt, ...) {
  va_list args;
  va_start(args, p_fmt);
  (void)th_vprintf(p_fmt, args);
  va_end(args);
}

char th_getchar() { return board_getc(); }

void th_serialport_initialize(void) {
#if EE_CFG_ENERGY_MODE == 1
  board_uart_init(9600);
#else
  board_uart_init(115200);
#endif
}

void th_timestamp(void) {
#if EE_CFG_ENERGY_MODE == 1
  board_marker(0);
  board_delay_us(2); /* the energy monitor needs a low level of at least 1 us */
  board_marker(1);
#else
  unsigned long microSeconds = board_timestamp_us();
  /* This message must NOT be changed. */
  th_printf(EE_MSG_TIMESTAMP, microSeconds);
#endif
}

void th_timestamp_initialize(void) {
  /* This message must NOT be changed. */
  th_printf(EE_MSG_TIMESTAMP_MODE);
  th_timestamp();
}

int main(void) {
  board_init();
  ee_benchmark_initialize();
  for (;;) ee_serial_callback(th_getchar());
}
