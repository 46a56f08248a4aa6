import { api, ok, type Schemas } from '../api/client'
import { confirmed } from '../components/confirm'

type Program = Pick<Schemas['StaffProgramView'], 'id' | 'name' | 'version'>

/**
 * Opens or closes a program once the administrator confirms; the program as
 * it is then, or undefined when they did not confirm.
 */
export async function openOrClose(program: Program, open: boolean): Promise<Schemas['ProgramView'] | undefined> {
  const asked = open
    ? await confirmed('开放受理', `开放后，群众即可申请「${program.name}」。确定开放吗？`, '开放')
    : await confirmed('停止受理', `关闭后，「${program.name}」不再接受新的申请，已提交的申请照常审核发放。确定关闭吗？`, '关闭')
  if (!asked) return undefined
  const request = { params: { path: { id: program.id } }, body: { expected_version: program.version } }
  return ok(open ? api.POST('/api/v1/staff/programs/{id}/open', request) : api.POST('/api/v1/staff/programs/{id}/close', request))
}
