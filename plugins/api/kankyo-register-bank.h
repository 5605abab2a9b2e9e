/* kankyo-register-bank.h: the memory a simulated device serves.
 *
 * Four tables laid out as libmodbus lays them (bits one byte each, registers
 * 16-bit), shared between the simulator's physics and a server thread under
 * one mutex. Client writes are counted so the physics sees them, and the
 * fault settings tell the server how to misbehave on request.
 */
#pragma once

#include <glib.h>
#include "kankyo-codec.h"

G_BEGIN_DECLS

typedef struct _KankyoRegisterBank KankyoRegisterBank;

typedef struct
{
  gboolean drop;         /* close every connection and refuse new ones */
  guint delay_ms;        /* wait this long before each reply */
  guint8 exception_code; /* answer every request with this exception; 0 = off */
} KankyoServerFaults;

KankyoRegisterBank *kankyo_register_bank_new (guint n_coils,
                                              guint n_discrete_inputs,
                                              guint n_holding_registers,
                                              guint n_input_registers);
KankyoRegisterBank *kankyo_register_bank_ref (KankyoRegisterBank *bank);
void kankyo_register_bank_unref (KankyoRegisterBank *bank);

void kankyo_register_bank_lock (KankyoRegisterBank *bank);
void kankyo_register_bank_unlock (KankyoRegisterBank *bank);
/* With the lock held. NULL and 0 for an empty table. */
guint8 *kankyo_register_bank_bits (KankyoRegisterBank *bank, KankyoArea area, guint *ret_count);
guint16 *kankyo_register_bank_registers (KankyoRegisterBank *bank, KankyoArea area, guint *ret_count);
/* A server calls this, lock held, after a client wrote; the serial grows. */
void kankyo_register_bank_note_client_write (KankyoRegisterBank *bank);
guint64 kankyo_register_bank_get_write_serial (KankyoRegisterBank *bank);

/* Thread-safe; take the lock themselves. */
void kankyo_register_bank_set_faults (KankyoRegisterBank *bank, const KankyoServerFaults *faults);
void kankyo_register_bank_get_faults (KankyoRegisterBank *bank, KankyoServerFaults *ret_faults);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KankyoRegisterBank, kankyo_register_bank_unref)

G_END_DECLS
