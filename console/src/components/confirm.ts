import { ElMessageBox } from 'element-plus'
import 'element-plus/es/components/message-box/style/css'

/** Asks before an action others will see (publishing, closing); true when the member confirms. */
export async function confirmed(title: string, message: string, action: string): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, title, { confirmButtonText: action, cancelButtonText: '取消', type: 'warning' })
    return true
  } catch {
    return false
  }
}
